/**
 * The hub's listening sockets: unix (mode 0600 by default, stale files cleared under a lock), TCP
 * (token required) and TLS (client certificates required).
 * @module
 */
import { chmodSync, unlinkSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { InvalidArgumentError, type Logger } from '@unipc/core/spi'
import { type Endpoint, loadPem, parseEndpoint, type TlsFiles } from '../endpoint.js'
import { clearStaleSocket, withSocketLock } from './unix-socket.js'

/** Options shared by every listener of a hub. */
export interface ListenOptions {
  /** Token for TCP/TLS listeners (a `?token=` on the listen URL wins). */
  readonly token?: string
  /** TLS certificate, key and the CA that signs client certificates. */
  readonly tls?: TlsFiles
  /** Mode of unix socket files (default 0o600; `?mode=660` on the URL wins). */
  readonly socketMode?: number
  /** Allow a TCP listener without a token (only for trusted networks). */
  readonly insecure?: boolean
}

/** A listening socket. */
export interface Listener {
  /** The URL clients connect to (with the real port when 0 was asked). */
  readonly url: string
  /** The endpoint as configured. */
  readonly endpoint: Endpoint
  /** Token this listener requires, if any. */
  readonly token: string | undefined
  /** Stops accepting; removes the unix socket file. */
  close(): Promise<void>
}

/**
 * Opens one listener.
 * @param url - `unix:///path`, `tcp://host:port` or `tls://host:port`
 * @param onSocket - receives each accepted (for TLS: verified) socket
 * @throws InvalidArgumentError for a TCP listener without token, a TLS one without cert/key/ca
 * @throws HubAlreadyRunningError when a hub already listens on a unix path
 */
export async function openListener(
  url: string,
  options: ListenOptions,
  logger: Logger,
  onSocket: (socket: Socket | TLSSocket, remote: string, listener: Listener) => void,
): Promise<Listener> {
  const parsed = new URL(url)
  // Only the URL's own token or the hub option count: a listener never picks up UNIPC_TOKEN silently.
  // Unix sockets are protected by their file mode; they need a token only when their URL has one.
  const token =
    parsed.searchParams.get('token') ?? (parsed.protocol === 'unix:' ? undefined : options.token) ?? undefined
  const endpoint = parseEndpoint(parsed, { token: token ?? '', tls: options.tls })
  let server: Server
  let listener: Listener
  const accept = (socket: Socket | TLSSocket): void => {
    const remote = endpoint.kind === 'unix' ? 'unix' : `${socket.remoteAddress}:${socket.remotePort}`
    socket.setNoDelay?.(true)
    onSocket(socket, remote, listener)
  }
  if (endpoint.kind === 'tls') {
    const { cert, key, ca } = endpoint.tls
    if (!cert || !key || !ca)
      throw new InvalidArgumentError(
        `a tls listener needs tls { cert, key, ca } (the CA verifies client certificates)`,
      )
    // node:tls is loaded only for TLS listeners: it adds half a megabyte to every process's heap.
    const { createServer: createTlsServer } = await import('node:tls')
    server = createTlsServer(
      {
        cert: loadPem(cert),
        key: loadPem(key),
        ca: loadPem(ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      accept,
    )
    server.on('tlsClientError', (err, socket) =>
      logger.warn(`unipc-hub: refused a TLS client at ${socket.remoteAddress}: ${err.message}`),
    )
  } else {
    if (endpoint.kind === 'tcp' && !token && !options.insecure)
      throw new InvalidArgumentError(
        `a tcp listener needs a token (--token-file, { token }) or use tls:// with client certificates`,
      )
    server = createServer(accept)
  }
  server.on('error', (err) => logger.error(`unipc-hub: listener ${endpoint.display} failed`, err))
  const listen = (arg: string | { host: string; port: number }): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(arg, () => {
        server.off('error', reject)
        resolve()
      })
    })
  let actualUrl = url
  if (endpoint.kind === 'unix') {
    const mode = parsed.searchParams.has('mode')
      ? Number.parseInt(parsed.searchParams.get('mode') as string, 8)
      : (options.socketMode ?? 0o600)
    await withSocketLock(endpoint.path, async () => {
      await clearStaleSocket(endpoint.path)
      await listen(endpoint.path)
      chmodSync(endpoint.path, mode)
    })
    actualUrl = `unix://${endpoint.path}`
  } else {
    await listen({ host: endpoint.host, port: endpoint.port })
    const addr = server.address()
    const port = typeof addr === 'object' && addr ? addr.port : endpoint.port
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
    actualUrl = `${endpoint.kind}://${host}:${port}`
  }
  listener = {
    url: actualUrl,
    endpoint,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if (endpoint.kind === 'unix') {
          try {
            unlinkSync(endpoint.path)
          } catch {}
        }
      }),
  }
  return listener
}
