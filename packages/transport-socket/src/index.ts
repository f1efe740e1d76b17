/**
 * `@unipc/transport-socket`: the five unipc facilities over unix, TCP and TLS sockets through a
 * small hub. `connect()` loads this package for `unix:`, `tcp:` and `tls:` URLs, and for the
 * embedded default (a unix socket in the runtime dir with an auto-started hub).
 * @packageDocumentation
 */
import type { Transport, TransportFactoryOptions } from '@unipc/core/spi'
import { type ReconnectOptions, SocketTransport } from './client/socket-transport.js'
import { parseEndpoint } from './endpoint.js'
import type { Hub, HubOptions } from './hub/hub.js'

export type { ReconnectOptions } from './client/socket-transport.js'
export type { Endpoint, TlsFiles } from './endpoint.js'
export { parseEndpoint } from './endpoint.js'
export type { Hub, HubOptions, HubStats } from './hub/hub.js'
export { DEFAULT_OUTBOUND_LIMIT } from './hub/limits.js'
export { HubAlreadyRunningError } from './hub/unix-socket.js'
export { DEFAULT_MAX_FRAME } from './wire/frames.js'
export { PROTOCOL_VERSION } from './wire/protocol.js'

/**
 * Builds a socket transport (the `TransportFactory` that `connect()` calls).
 * @param url - `unix:///path/hub.sock[?autostart=1]`, `tcp://host:port[?token=…]` or
 *   `tls://host:port[?ca=…&cert=…&key=…]`
 * @param options - `token`, `tls: { ca, cert, key, servername }`, `maxFrame`, `autostart`,
 *   `reconnect: { initialDelay, maxDelay }`, `direct` (default true; `false` or `?direct=0` sends
 *   every request through the hub instead of straight to its server)
 * @example
 * ```ts
 * import { connect } from '@unipc/core'
 * const bus = await connect('tcp://10.0.0.5:7400', { component: 'ui', transport: { token: process.env.HUB_TOKEN } })
 * ```
 */
export function createTransport(url: URL, options: TransportFactoryOptions = {}): Transport {
  const endpoint = parseEndpoint(url, options)
  const direct = options.direct ?? url.searchParams.get('direct')
  return new SocketTransport(
    endpoint,
    (options.reconnect ?? {}) as Partial<ReconnectOptions>,
    direct !== false && direct !== '0' && direct !== 'false',
  )
}

/**
 * Starts a hub in this process.
 *
 * The hub's code is loaded on the first call, not with the package: most processes only connect,
 * and a client's V8 heap stays smaller without the brokers (see core's internal/rx.ts for why a
 * megabyte of heap matters).
 * @example
 * ```ts
 * const hub = await startHub({ listen: ['unix:///tmp/app.sock', 'tcp://127.0.0.1:7400'], token: 's3cret' })
 * // … connect('unix:///tmp/app.sock') from any process …
 * await hub.close()
 * ```
 * @throws InvalidArgumentError for bad options, HubAlreadyRunningError when the unix path is taken
 */
export async function startHub(options: HubOptions): Promise<Hub> {
  const hub = await import('./hub/hub.js')
  return hub.startHub(options)
}
