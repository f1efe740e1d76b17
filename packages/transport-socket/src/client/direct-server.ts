/**
 * The server side of direct links: a bus that serves a method also listens on its own endpoint
 * (a 0600 unix socket beside the hub's, or an ephemeral TCP port on the interface it reaches the
 * hub through), so callers the hub introduced can send requests without the hub's two extra hops.
 * Connections are authenticated exactly like the hub's (same handshake code, same token), and speak
 * a subset of the hub protocol: `Request`/`Deliver`/`Send` in, `Message`/`Done`/`Bounce`/`Bye` out.
 * A `Deliver` is a command a sender hands straight to one of this bus's consumers.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { type Logger, ProtocolError } from '@unipc/core/spi'
import type { Endpoint } from '../endpoint.js'
import { type ConnectionHost, HubConnection } from '../hub/connection.js'
import { DEFAULT_OUTBOUND_LIMIT } from '../hub/limits.js'
import { type Listener, openListener } from '../hub/listeners.js'
import type { WireValue } from '../wire/msgpack.js'
import { T } from '../wire/protocol.js'
import { deliverFields, requestFields } from './hot-frames.js'

/** Longest unix socket path the OS accepts (sun_path is 108 bytes on Linux, with its NUL). */
const MAX_UNIX_PATH = 100

/** What the direct listener needs from the transport that owns it. */
export interface DirectServerHost {
  readonly logger: Logger
  /** A request arrived on a direct link (`[Request, serverId, tag, data]`). */
  request(conn: HubConnection, serverId: number, tag: number, data: Uint8Array): void
  /** A command arrived on a direct link (`[Deliver, consumerId, tag, redelivered, data]`). */
  command(conn: HubConnection, consumerId: number, tag: number, redelivered: boolean, data: Uint8Array): void
  /** A message for this bus's inbox arrived on a direct link. */
  message(data: Uint8Array): void
}

/** The direct listener of one bus and its inbound links, by caller address. */
export class DirectServer implements ConnectionHost {
  readonly logger: Logger
  readonly maxFrame: number
  readonly outboundLimit = DEFAULT_OUTBOUND_LIMIT
  readonly features = 0
  /**
   * The newest link from each caller address that carried a request: a link this side accepted may
   * still be refused by the caller (it wants a token proof this listener cannot give), and replies
   * written to it would be lost; a caller sends requests only on links it accepted.
   */
  readonly #byAddress = new Map<string, HubConnection>()
  /** Highest request tag read on each link (for `Bye`; 0 until its first request). */
  readonly #lastTag = new Map<HubConnection, number>()
  readonly #all = new Set<HubConnection>()
  #nextConn = 1
  #closed = false

  private constructor(
    readonly listener: Listener,
    readonly host: DirectServerHost,
    maxFrame: number,
  ) {
    this.logger = host.logger
    this.maxFrame = maxFrame
  }

  /**
   * Listens next to the hub endpoint. Returns undefined when this kind of endpoint gets no direct
   * path (TLS, or TCP without a token: a direct listener must be at least as protected as the hub).
   */
  static async open(
    hub: Endpoint,
    localAddress: string | undefined,
    host: DirectServerHost,
  ): Promise<DirectServer | undefined> {
    let url: string
    if (hub.kind === 'unix') {
      const name = `.unipc-d-${process.pid}-${randomBytes(6).toString('hex')}.sock`
      let path = join(dirname(hub.path), name)
      if (path.length > MAX_UNIX_PATH) path = join(process.env.XDG_RUNTIME_DIR || '/tmp', name)
      removeStale(dirname(path))
      // A unix listener wants a token only when its URL names one: the hub's, if the hub has one.
      url = `unix://${path}${hub.token ? `?token=${encodeURIComponent(hub.token)}` : ''}`
    } else if (hub.kind === 'tcp' && hub.token && localAddress) {
      url = `tcp://${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:0`
    } else return undefined
    let server: DirectServer | undefined
    const listener = await openListener(
      url,
      { token: hub.token, socketMode: 0o600 },
      host.logger,
      (socket, remote, l) => {
        if (!server || server.#closed) {
          socket.destroy()
          return
        }
        const conn = new HubConnection(socket, server, { token: l.token, name: 'direct' }, remote)
        server.#all.add(conn)
        const all = server.#all
        socket.once('close', () => all.delete(conn))
      },
    )
    server = new DirectServer(listener, host, hub.maxFrame)
    return server
  }

  /** The URL callers dial (real port filled in). */
  get url(): string {
    return this.listener.url
  }

  /** The link from `address`, if that caller has one open that carried a request. */
  linkFrom(address: string): HubConnection | undefined {
    return this.#byAddress.get(address)
  }

  nextId(): number {
    return this.#nextConn++
  }

  attach(conn: HubConnection): void {
    this.#lastTag.set(conn, 0)
  }

  /** Records request `tag` read on `conn`; its first request makes it the caller's reply path. */
  #read(conn: HubConnection, tag: number): void {
    if (this.#lastTag.get(conn) === 0) this.#byAddress.set(conn.address, conn)
    this.#lastTag.set(conn, tag)
  }

  detach(conn: HubConnection): void {
    if (this.#byAddress.get(conn.address) === conn) this.#byAddress.delete(conn.address)
    this.#lastTag.delete(conn)
  }

  /**
   * A `[Request, serverId, tag, data]` or `[Deliver, consumerId, tag, redelivered, data]` read
   * without the generic decoder (every request or direct command is one).
   */
  handleBody(conn: HubConnection, body: Buffer): boolean {
    const f = requestFields(body)
    if (f) {
      this.#read(conn, f.tag)
      this.host.request(conn, f.serverId, f.tag, f.data)
      return true
    }
    const d = deliverFields(body)
    if (!d) return false
    this.#read(conn, d.tag)
    this.host.command(conn, d.consumerId, d.tag, d.redelivered, d.data)
    return true
  }

  handle(conn: HubConnection, msg: WireValue[]): void {
    switch (msg[0]) {
      case T.Request: {
        const [, serverId, tag, data] = msg
        if (typeof serverId !== 'number' || typeof tag !== 'number' || !(data instanceof Uint8Array))
          throw new ProtocolError('a direct Request is [Request, serverId, tag, data]')
        this.#read(conn, tag)
        this.host.request(conn, serverId, tag, data)
        return
      }
      case T.Deliver: {
        const [, consumerId, tag, redelivered, data] = msg
        if (typeof consumerId !== 'number' || typeof tag !== 'number' || !(data instanceof Uint8Array))
          throw new ProtocolError('a direct Deliver is [Deliver, consumerId, tag, redelivered, data]')
        this.#read(conn, tag)
        this.host.command(conn, consumerId, tag, redelivered === true, data)
        return
      }
      case T.Send: {
        const data = msg[2]
        if (data instanceof Uint8Array) this.host.message(data)
        return
      }
      default:
        this.logger.debug(`unipc: ignored frame type ${String(msg[0])} on a direct link`)
    }
  }

  /** Says goodbye on every link (naming the last request read), closes them and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const conn of [...this.#all]) {
      conn.sendAfterSummary([T.Bye, this.#lastTag.get(conn) ?? 0])
      conn.close()
    }
    await this.listener.close()
  }
}

/**
 * Removes direct sockets left in `dir` by processes that no longer exist (a SIGKILLed server cannot
 * remove its own). The pid is part of the file name; only files of dead pids are touched.
 */
function removeStale(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = /^\.unipc-d-(\d+)-[0-9a-f]+\.sock$/.exec(name)
    if (!m || alive(Number(m[1]))) continue
    try {
      unlinkSync(join(dir, name))
    } catch {}
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
