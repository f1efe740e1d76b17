/**
 * Direct links between buses for inbox messages (replies, stream items, cancel, credit), so they
 * skip the broker: one hop instead of two. Every bus listens on its own socket in the bus
 * directory; its inbox address names that socket, `shm:<bus>:<pid>-<8 hex>`. The first message to
 * an address connects (same handshake and link segment as with the broker); messages sent while
 * connecting wait in order. EOF on the socket closes the link; a later message reconnects or, if
 * the bus is gone, is dropped (inbox messages are fire-and-forget at the SPI).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { isCallerControl, type Logger, ProtocolError } from '@unipc/core/spi'
import type { Endpoint } from './endpoint.js'
import { watchForEof } from './handshake.js'
import { joinPayload, type Payload, type ShmLink } from './link.js'
import type { BusPaths } from './paths.js'
import { acceptLink, connectSocket, offerLink, refuse, welcome } from './rendezvous.js'
import { FieldWriter, Op } from './wire.js'

const TOKEN = /^\d{1,10}-[0-9a-f]{8}$/

/** The socket path of an inbox address of this bus directory, or undefined if it is not one. */
function socketOf(paths: BusPaths, address: string): string | undefined {
  const prefix = `shm:${paths.bus}:`
  if (!address.startsWith(prefix)) return undefined
  const token = address.slice(prefix.length)
  return TOKEN.test(token) ? join(paths.dir, `${paths.bus}.${token}.sock`) : undefined
}

interface Queued {
  readonly op: number
  readonly head: Uint8Array
  readonly data: Uint8Array
}

interface Peer {
  link: ShmLink | undefined
  /** The peer's component and pid, for errors. */
  who: string
  /** Messages sent while connecting. */
  readonly queue: Queued[]
}

/**
 * Called when the link to a direct address is gone: `delivered` is false when it never came up
 * (nothing sent to it arrived), true when it closed (its process died or closed).
 */
export type PeerGoneHandler = (address: string, delivered: boolean, who: string) => void

/** Names a peer in errors: its component (if any) and pid. */
function describe(component: unknown, pid: number): string {
  return typeof component === 'string' && component
    ? `component '${component.slice(0, 200)}' (pid ${pid})`
    : `pid ${pid}`
}

/** This bus's direct links: its listening socket and its connections to other buses' inboxes. */
export class Peers {
  readonly address: string
  readonly #socketPath: string
  readonly #peers = new Map<string, Peer>()
  readonly #w = new FieldWriter()
  readonly #connecting = new Set<Promise<void>>()
  #server: Server | undefined
  #closed = false
  /** The peer #post found last, and its address (see #post). */
  #lastTo = ''
  #lastPeer: Peer | undefined
  /** See {@link PeerGoneHandler}. */
  onGone: PeerGoneHandler = () => {}

  constructor(
    private readonly paths: BusPaths,
    private readonly endpoint: Endpoint,
    private readonly ringSize: number,
    private readonly component: string,
    private readonly logger: Logger,
  ) {
    const token = `${process.pid}-${randomBytes(4).toString('hex')}`
    this.address = `shm:${paths.bus}:${token}`
    this.#socketPath = join(paths.dir, `${paths.bus}.${token}.sock`)
  }

  /** True when `address` names a bus of this bus name reachable over a direct link. */
  isDirect(address: string): boolean {
    return socketOf(this.paths, address) !== undefined
  }

  /** Starts listening for buses that send to this inbox. */
  async listen(): Promise<void> {
    const server = createServer((socket) => void this.#accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#socketPath, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(this.#socketPath, 0o600)
    server.on('error', (err) => this.logger.warn('unipc shm: inbox socket error', err))
    this.#server = server
  }

  /**
   * Sends an inbox message to `to` over a direct link. Returns false when `to` is not a direct
   * address of this bus (the caller sends through the broker).
   */
  send(to: string, data: Payload): boolean {
    // Credit and cancel go in at once: a stream's server waits for them while this job goes on.
    // (Parts are a large body's frame: its first part starts the frame.)
    const head = Array.isArray(data) ? (data as readonly Uint8Array[])[0] : (data as Uint8Array)
    return this.#post(to, Op.Inbox, 0, 0, 0, data, head !== undefined && isCallerControl(head))
  }

  /**
   * Hands a request to server `sid` of the bus at `to` (delivery id `did`, answered by Done or
   * Refused on the same link). Returns false when `to` is not a direct address.
   */
  request(to: string, sid: number, did: number, data: Payload): boolean {
    return this.#post(to, Op.Request, 2, sid, did, data)
  }

  /** Sends message `op` with `count` u32 fields (`a`, `b`) and `data` to `to` (see ShmLink.sendIds). */
  #post(to: string, op: number, count: number, a: number, b: number, data: Payload, urgent = false): boolean {
    if (this.#closed) return true
    // The last address used, without a lookup: a server replies to one caller many times over.
    let peer = to === this.#lastTo ? this.#lastPeer : this.#peers.get(to)
    if (peer?.link) {
      if (!peer.link.closed) {
        this.#lastTo = to
        this.#lastPeer = peer
        peer.link.sendIds(op, count, a, b, data, urgent)
        return true
      }
      this.#peers.delete(to)
      this.#lastTo = ''
      peer = undefined
    }
    const w = this.#w.reset()
    if (count > 0) w.u32(a)
    if (count > 1) w.u32(b)
    // Kept until the link is up: parts are joined (the application may reuse its body meanwhile).
    if (peer) {
      peer.queue.push({ op, head: new Uint8Array(w.view()), data: joinPayload(data) })
      return true
    }
    const path = socketOf(this.paths, to)
    if (!path) return false
    this.#open(to, path, { op, head: new Uint8Array(w.view()), data: joinPayload(data) })
    return true
  }

  /**
   * Connects to the bus at `to` (its socket `path`), with `first` waiting to go. (Apart from
   * #post, which has no closure: V8 would allocate a context for every message.)
   */
  #open(to: string, path: string, first: Queued): void {
    const peer: Peer = { link: undefined, who: to, queue: [first] }
    this.#peers.set(to, peer)
    this.#lastTo = ''
    const connecting = this.#connect(to, path, peer)
    this.#connecting.add(connecting)
    void connecting.finally(() => this.#connecting.delete(connecting))
  }

  async #connect(to: string, path: string, peer: Peer): Promise<void> {
    let socket: Socket | undefined
    try {
      socket = await connectSocket(path)
      const { link, welcome: answer } = await offerLink(socket, {
        bus: this.paths.bus,
        ringSize: this.ringSize,
        bell: this.endpoint.bellPath,
        extra: { component: this.component, address: this.address },
      })
      if (this.#closed) {
        link.close()
        return
      }
      link.chunked = true
      this.endpoint.add(link)
      watchForEof(socket, () => this.#drop(to, link))
      peer.link = link
      peer.who = describe(answer.component, link.peerPid)
      for (const q of peer.queue.splice(0)) link.send(q.op, this.#w.reset().raw(q.head), q.data)
    } catch (err) {
      // The bus closed or died: its inbox messages have nobody to read them.
      this.logger.debug(`unipc shm: no direct link to ${to}; dropped ${peer.queue.length} message(s)`, err)
      socket?.destroy()
      if (this.#peers.get(to) === peer) this.#peers.delete(to)
      this.#lastTo = ''
      if (!this.#closed) this.onGone(to, false, peer.who)
    }
  }

  async #accept(socket: Socket): Promise<void> {
    let accepted: Awaited<ReturnType<typeof acceptLink>> | undefined
    try {
      accepted = await acceptLink(socket, this.paths.bus, Math.max(this.ringSize, 64 * 1024 * 1024))
      if (this.#closed) throw new ProtocolError('bus is closing')
      const { link, hello } = accepted
      link.chunked = true
      this.endpoint.add(link)
      // Messages back to the connecting bus (replies, Done) ride this link too, unless another
      // link to it is up or coming: one link per pair in the common case, fewer rings to drain.
      const from =
        typeof hello.address === 'string' && this.isDirect(hello.address) ? hello.address : undefined
      if (from !== undefined && !this.#peers.has(from))
        this.#peers.set(from, { link, who: describe(hello.component, link.peerPid), queue: [] })
      this.#lastTo = ''
      watchForEof(socket, () => this.#drop(from, link))
      welcome(socket, this.endpoint.bellPath, { component: this.component })
    } catch (err) {
      accepted?.link.close()
      this.logger.warn('unipc shm: refused a direct link', err)
      refuse(socket, err)
    }
  }

  #drop(to: string | undefined, link: ShmLink): void {
    // What the peer wrote before it went is still in the ring (a reply, a Done): read it first.
    this.endpoint.remove(link)
    const peer = to === undefined ? undefined : this.#peers.get(to)
    if (to === undefined || peer?.link !== link) return
    this.#peers.delete(to)
    this.#lastTo = ''
    if (!this.#closed) this.onGone(to, true, peer.who)
  }

  /** A link failed (its peer corrupted a ring; the endpoint closed it): like its peer dying. */
  failed(link: ShmLink): void {
    for (const [to, peer] of this.#peers) if (peer.link === link) this.#drop(to, link)
  }

  /**
   * Waits (at most `timeoutMs`) until messages already sent have left this process: links still
   * connecting are up and no link holds writes back for lack of ring space. Called before close,
   * so a reply sent just before the bus closes still arrives.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const backlog = [...this.endpoint.links].some((l) => l.pendingWrites > 0)
      if (this.#connecting.size === 0 && !backlog) return
      await Promise.race([...this.#connecting, new Promise((r) => setTimeout(r, 5))])
    }
  }

  /** Stops listening and closes every direct link (the endpoint closes the links themselves). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#server?.close()
    rmSync(this.#socketPath, { force: true })
    this.#peers.clear()
    this.#lastTo = ''
    this.#lastPeer = undefined
  }
}
