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
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { type Logger, ProtocolError } from '@unipc/core/spi'
import type { Endpoint } from './endpoint.js'
import { field, intField, PROTOCOL_VERSION, readJsonLine, watchForEof, writeJsonLine } from './handshake.js'
import { ShmLink } from './link.js'
import { addon } from './load-addon.js'
import { type BusPaths, segmentName } from './paths.js'
import { FieldWriter, Op } from './wire.js'

const TOKEN = /^\d{1,10}-[0-9a-f]{8}$/

/** The socket path of an inbox address of this bus directory, or undefined if it is not one. */
function socketOf(paths: BusPaths, address: string): string | undefined {
  const prefix = `shm:${paths.bus}:`
  if (!address.startsWith(prefix)) return undefined
  const token = address.slice(prefix.length)
  return TOKEN.test(token) ? join(paths.dir, `${paths.bus}.${token}.sock`) : undefined
}

interface Peer {
  link: ShmLink | undefined
  /** Messages sent while connecting. */
  readonly queue: Uint8Array[]
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
  send(to: string, data: Uint8Array): boolean {
    if (this.#closed) return true
    let peer = this.#peers.get(to)
    if (peer?.link) {
      if (!peer.link.closed) {
        peer.link.send(Op.Inbox, this.#w.reset(), data)
        return true
      }
      this.#peers.delete(to)
      peer = undefined
    }
    if (peer) {
      peer.queue.push(data)
      return true
    }
    const path = socketOf(this.paths, to)
    if (!path) return false
    peer = { link: undefined, queue: [data] }
    this.#peers.set(to, peer)
    const connecting = this.#connect(to, path, peer)
    this.#connecting.add(connecting)
    void connecting.finally(() => this.#connecting.delete(connecting))
    return true
  }

  async #connect(to: string, path: string, peer: Peer): Promise<void> {
    let socket: Socket | undefined
    const segment = segmentName(this.paths.bus, 'l')
    let native: ReturnType<typeof addon.Link.create> | undefined
    try {
      socket = await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(path)
        s.once('connect', () => {
          s.off('error', reject)
          resolve(s)
        })
        s.once('error', reject)
      })
      native = addon.Link.create(segment, this.ringSize)
      writeJsonLine(socket, {
        v: PROTOCOL_VERSION,
        pid: process.pid,
        segment,
        bell: this.endpoint.bellPath,
        component: this.component,
      })
      const welcome = await readJsonLine(socket, 5000)
      if (welcome.ok !== true)
        throw new ProtocolError(`bus ${to} refused a direct link: ${String(welcome.error)}`)
      const link = new ShmLink(native, segment, this.paths.bus, socket, intField(welcome, 'pid'))
      link.setPeerBell(field(welcome, 'bell'))
      if (this.#closed) {
        link.close()
        return
      }
      this.endpoint.add(link)
      watchForEof(socket, () => this.#drop(to, link))
      peer.link = link
      for (const data of peer.queue.splice(0)) link.send(Op.Inbox, this.#w.reset(), data)
    } catch (err) {
      // The bus closed or died: its inbox messages have nobody to read them.
      this.logger.debug(`unipc shm: no direct link to ${to}; dropped ${peer.queue.length} message(s)`, err)
      native?.close()
      addon.unlinkSegment(segment)
      socket?.destroy()
      if (this.#peers.get(to) === peer) this.#peers.delete(to)
    }
  }

  async #accept(socket: Socket): Promise<void> {
    let native: ReturnType<typeof addon.Link.open> | undefined
    try {
      const hello = await readJsonLine(socket, 5000)
      if (hello.v !== PROTOCOL_VERSION)
        throw new ProtocolError(`shm protocol version ${String(hello.v)} is not 1`)
      const segment = field(hello, 'segment')
      native = addon.Link.open(segment, Math.max(this.ringSize, 64 * 1024 * 1024))
      const link = new ShmLink(native, segment, this.paths.bus, socket, intField(hello, 'pid'))
      link.setPeerBell(field(hello, 'bell'))
      if (this.#closed) throw new ProtocolError('bus is closing')
      this.endpoint.add(link)
      watchForEof(socket, () => this.#drop(undefined, link))
      writeJsonLine(socket, { v: PROTOCOL_VERSION, ok: true, pid: process.pid, bell: this.endpoint.bellPath })
    } catch (err) {
      native?.close()
      this.logger.warn('unipc shm: refused a direct link', err)
      if (!socket.destroyed) {
        writeJsonLine(socket, { v: PROTOCOL_VERSION, ok: false, error: (err as Error).message })
        socket.end()
      }
    }
  }

  #drop(to: string | undefined, link: ShmLink): void {
    this.endpoint.links.delete(link)
    link.close()
    if (to !== undefined && this.#peers.get(to)?.link === link) this.#peers.delete(to)
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
  }
}
