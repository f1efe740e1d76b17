/**
 * `@unipc/transport-socket`: the five unipc facilities over unix, TCP and TLS sockets through a
 * small hub. `connect()` loads this package for `unix:`, `tcp:` and `tls:` URLs, and for the
 * embedded default (a unix socket in the runtime dir with an auto-started hub).
 * @packageDocumentation
 */
import type { Transport, TransportFactoryOptions } from '@unipc/core/spi'
import { type ReconnectOptions, SocketTransport } from './client/socket-transport.js'
import { parseEndpoint } from './endpoint.js'

export type { ReconnectOptions } from './client/socket-transport.js'
export type { Endpoint, TlsFiles } from './endpoint.js'
export { parseEndpoint } from './endpoint.js'
export { DEFAULT_OUTBOUND_LIMIT, type Hub, type HubOptions, type HubStats, startHub } from './hub/hub.js'
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
