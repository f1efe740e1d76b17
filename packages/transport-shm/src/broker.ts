/**
 * The broker of one `shm://<bus>`: it owns the shared state (queues, maps, subscriptions, inboxes,
 * servers) and every bus of the bus name links to it. Semantics mirror the core's memory
 * transport; only bytes move here. A client whose process dies (EOF on its socket) is cleaned up:
 * its unacknowledged commands go back to their queue flagged as redelivered, its subscriptions,
 * watches and servers go away, and its link segment and blobs are removed.
 * @module
 */
import { type ChannelMatcher, compilePattern, ErrorCode, type Logger, ProtocolError } from '@unipc/core/spi'
import { BlobRef, type Frame, type ShmLink } from './link.js'
import { addon } from './load-addon.js'
import { QUEUE_PROTOCOL } from './queue-client.js'
import { type FieldReader, FieldWriter, Op, readEntries, Status } from './wire.js'

interface QueuedMessage {
  readonly data: Uint8Array
  readonly redelivered: boolean
}

interface Consumer {
  readonly client: Client
  readonly id: number
  readonly queue: string
  readonly concurrency: number
  readonly held: Map<number, QueuedMessage>
  /** No new deliveries (its bus stopped consuming); it may still ack what it holds. */
  stopped: boolean
}

interface Queue {
  readonly items: QueuedMessage[]
  consumers: Consumer[]
  next: number
}

interface Subscription {
  readonly client: Client
  readonly id: number
  readonly matches: ChannelMatcher
}

interface ServerEntry {
  readonly client: Client
  readonly id: number
  readonly method: string
}

/** One connected bus. */
export interface Client {
  readonly link: ShmLink
  readonly pid: number
  readonly address: string
  readonly component: string
  readonly consumers: Map<number, Consumer>
  readonly watches: Map<number, string>
  readonly subs: Map<number, Subscription>
  readonly servers: Map<number, ServerEntry>
  /** Requests dispatched to this bus and not yet done: reported lost if it dies. */
  readonly inflight: Map<number, { method: string; data: Uint8Array | undefined }>
  /** Methods this bus looked up: it is told when their servers change. */
  readonly lookups: Set<string>
  nextDelivery: number
  /** The corr of this bus's last Enqueue, acknowledged by one Pushed at the end of the job; 0 = none. */
  pushed?: number
}

/** Called for each request a dead server had accepted, so the caller can be told. */
export type LostRequestHandler = (
  request: Uint8Array,
  server: Client,
) => { to: string; data: Uint8Array } | undefined

/** Reply error: the code decides the class the bus rebuilds (see transport.ts). */
interface ReplyError {
  readonly code: string
  readonly message: string
  readonly target?: string
}

/** Inline requests kept to report them lost when their server dies (bigger ones are not kept). */
const KEEP_INFLIGHT_BYTES = 64 * 1024

/** The state of one bus name, driven by frames from its clients. */
export class Broker {
  readonly clients = new Map<ShmLink, Client>()
  readonly #byAddress = new Map<string, Client>()
  readonly #queues = new Map<string, Queue>()
  readonly #maps = new Map<string, Map<string, Uint8Array>>()
  readonly #watchers = new Map<string, Set<{ client: Client; id: number }>>()
  readonly #subs = new Set<Subscription>()
  readonly #servers = new Map<string, { list: ServerEntry[]; next: number }>()
  /** Buses that looked a method up (see dispatcher.ts): told whenever its servers change. */
  readonly #lookers = new Map<string, Set<Client>>()
  readonly #w = new FieldWriter()
  readonly #d = new FieldWriter()
  /** Buses whose Enqueues of this job wait for their Pushed (see #enqueued). */
  readonly #pushers: Client[] = []
  /** The last queue name read from a push, and its UTF-8 bytes (most pushes name the same queue). */
  #lastQueue = ''
  #lastQueueBytes: Buffer = Buffer.alloc(0)

  /**
   * @param logger - where problems are logged
   * @param onLost - builds the reply that tells a caller its request died with its server
   */
  /**
   * @param queueProtocol - the queue protocol this broker speaks: below 2 it takes no Enqueue or
   *   Acks (they are unknown ops, as to a broker of an earlier version; tests)
   */
  constructor(
    private readonly logger: Logger,
    private readonly onLost?: LostRequestHandler,
    private readonly queueProtocol = QUEUE_PROTOCOL,
  ) {}

  /** Registers a new client. */
  add(client: Client): void {
    this.clients.set(client.link, client)
    this.#byAddress.set(client.address, client)
  }

  /** True when a connected bus has this inbox address. */
  hasAddress(address: string): boolean {
    return this.#byAddress.has(address)
  }

  /** Forgets a client (its process died or it closed) and releases everything it held. */
  remove(link: ShmLink): void {
    const client = this.clients.get(link)
    if (!client) return
    this.clients.delete(link)
    this.#byAddress.delete(client.address)
    for (const c of [...client.consumers.values()]) this.#removeConsumer(c)
    for (const [id, map] of client.watches) {
      const set = this.#watchers.get(map)
      for (const w of set ?? []) if (w.client === client && w.id === id) set?.delete(w)
    }
    for (const s of client.subs.values()) this.#subs.delete(s)
    for (const method of client.lookups) this.#lookers.get(method)?.delete(client)
    for (const s of [...client.servers.values()]) this.#removeServer(s)
    for (const { data } of client.inflight.values()) {
      const lost = data && this.onLost?.(data, client)
      if (lost) this.#sendTo(lost.to, lost.data)
    }
    client.inflight.clear()
    link.close()
    this.logger.debug(`unipc shm broker: released bus ${client.address}`)
  }

  /** Handles one message from a client. */
  onFrame(link: ShmLink, f: Frame): void {
    const client = this.clients.get(link)
    if (!client) return
    const r = f.fields
    switch (f.op) {
      case Op.Push: {
        const corr = r.u32()
        const queue = r.str()
        this.#queue(queue).items.push({ data: own(link.data(f), f), redelivered: false })
        this.#pump(queue)
        this.#ok(client, corr)
        return
      }
      case Op.Enqueue: {
        if (this.queueProtocol < 2) throw new ProtocolError(`unknown shm message op ${f.op}`)
        const corr = r.u32()
        const queue = this.#queueName(r)
        // Inline data copied out of the batch buffer in one step (no view first).
        const data = f.blob || f.slab ? link.data(f) : r.restCopy()
        this.#queue(queue).items.push({ data, redelivered: false })
        this.#pump(queue)
        this.#enqueued(client, corr)
        return
      }
      case Op.Consume: {
        const corr = r.u32()
        const id = r.u32()
        const queue = r.str()
        const concurrency = Math.max(1, r.u32())
        const c: Consumer = { client, id, queue, concurrency, held: new Map(), stopped: false }
        client.consumers.set(id, c)
        this.#queue(queue).consumers.push(c)
        this.#ok(client, corr)
        this.#pump(queue)
        return
      }
      case Op.Unconsume: {
        // The worker stops taking commands but finishes (and acks) what it holds; what it still
        // holds when its bus goes away is redelivered (see remove).
        const corr = r.u32()
        const c = client.consumers.get(r.u32())
        if (c) this.#stopConsumer(c)
        this.#ok(client, corr)
        return
      }
      case Op.Ack: {
        const c = client.consumers.get(r.u32())
        if (!c?.held.delete(r.u32())) return
        if (c.stopped && c.held.size === 0) client.consumers.delete(c.id)
        else this.#pump(c.queue)
        return
      }
      case Op.Acks: {
        if (this.queueProtocol < 2) throw new ProtocolError(`unknown shm message op ${f.op}`)
        const c = client.consumers.get(r.u32())
        if (!c) return
        let freed = false
        while (r.more()) if (c.held.delete(r.u32())) freed = true
        if (!freed) return
        if (c.stopped && c.held.size === 0) client.consumers.delete(c.id)
        else this.#pump(c.queue)
        return
      }
      case Op.Get: {
        const corr = r.u32()
        const value = this.#maps.get(r.str())?.get(r.str())
        this.#w
          .reset()
          .u32(corr)
          .u8(Status.Ok)
          .u8(value ? 1 : 0)
        client.link.send(Op.Reply, this.#w, value)
        return
      }
      case Op.GetAll: {
        const corr = r.u32()
        const m = this.#maps.get(r.str())
        this.#d.reset().u32(m?.size ?? 0)
        for (const [k, v] of m ?? []) this.#d.str(k).bytes(v)
        this.#w.reset().u32(corr).u8(Status.Ok)
        client.link.send(Op.Reply, this.#w, this.#d.view())
        return
      }
      case Op.Set: {
        const corr = r.u32()
        const map = r.str()
        const entries = readEntries(link.data(f), true)
        let m = this.#maps.get(map)
        if (!m) {
          m = new Map()
          this.#maps.set(map, m)
        }
        for (const [k, v] of entries) m.set(k, v)
        for (const [k, v] of entries) this.#notify(map, k, v)
        this.#ok(client, corr)
        return
      }
      case Op.Delete: {
        const corr = r.u32()
        const map = r.str()
        const m = this.#maps.get(map)
        for (let n = r.u32(); n > 0; n--) {
          const key = r.str()
          if (m?.delete(key)) this.#notify(map, key, undefined)
        }
        this.#ok(client, corr)
        return
      }
      case Op.Watch: {
        const corr = r.u32()
        const id = r.u32()
        const map = r.str()
        client.watches.set(id, map)
        let set = this.#watchers.get(map)
        if (!set) {
          set = new Set()
          this.#watchers.set(map, set)
        }
        set.add({ client, id })
        this.#ok(client, corr)
        return
      }
      case Op.Unwatch: {
        const corr = r.u32()
        const id = r.u32()
        const map = client.watches.get(id)
        client.watches.delete(id)
        const set = map === undefined ? undefined : this.#watchers.get(map)
        for (const w of set ?? []) if (w.client === client && w.id === id) set?.delete(w)
        this.#ok(client, corr)
        return
      }
      case Op.Publish: {
        const channel = r.str()
        const data = link.data(f)
        for (const s of this.#subs) {
          if (!s.matches(channel)) continue
          this.#w.reset().u32(s.id).str(channel)
          s.client.link.send(Op.Message, this.#w, data)
        }
        return
      }
      case Op.Subscribe: {
        const corr = r.u32()
        const id = r.u32()
        let matches: ChannelMatcher
        try {
          matches = compilePattern(r.str())
        } catch (err) {
          this.#fail(client, corr, {
            code: ErrorCode.InvalidArgument,
            message: (err as Error).message,
          })
          return
        }
        const s: Subscription = { client, id, matches }
        client.subs.set(id, s)
        this.#subs.add(s)
        this.#ok(client, corr)
        return
      }
      case Op.Unsubscribe: {
        const corr = r.u32()
        const id = r.u32()
        const s = client.subs.get(id)
        if (s) this.#subs.delete(s)
        client.subs.delete(id)
        this.#ok(client, corr)
        return
      }
      case Op.Send: {
        const corr = r.u32()
        const to = r.str()
        const target = this.#byAddress.get(to)
        const payload = link.payload(f)
        if (!target) {
          if (corr !== 0) this.#fail(client, corr, goneError(to))
          if (payload instanceof BlobRef) addon.unlinkSegment(payload.name)
          return
        }
        this.#w.reset()
        target.link.send(Op.Inbox, this.#w, payload)
        if (corr !== 0) this.#ok(client, corr)
        return
      }
      case Op.Serve: {
        const corr = r.u32()
        const id = r.u32()
        const method = r.str()
        const s: ServerEntry = { client, id, method }
        client.servers.set(id, s)
        let entry = this.#servers.get(method)
        if (!entry) {
          entry = { list: [], next: 0 }
          this.#servers.set(method, entry)
        }
        entry.list.push(s)
        // Callers learn of the new server before this bus learns it serves (see dispatcher.ts).
        this.#announce(method)
        this.#ok(client, corr)
        return
      }
      case Op.Lookup: {
        const corr = r.u32()
        const method = r.str()
        let set = this.#lookers.get(method)
        if (!set) {
          set = new Set()
          this.#lookers.set(method, set)
        }
        set.add(client)
        client.lookups.add(method)
        this.#w.reset().u32(corr).u8(Status.Ok)
        this.#members(method, this.#w)
        client.link.send(Op.Reply, this.#w)
        return
      }
      case Op.Unserve: {
        const corr = r.u32()
        const s = client.servers.get(r.u32())
        if (s) this.#removeServer(s)
        this.#ok(client, corr)
        return
      }
      case Op.Dispatch: {
        const corr = r.u32()
        const method = r.str()
        const entry = this.#servers.get(method)
        const data = link.payload(f)
        if (!entry || entry.list.length === 0) {
          if (data instanceof BlobRef) addon.unlinkSegment(data.name)
          this.#fail(client, corr, {
            code: ErrorCode.NoHandler,
            message: `no handler for '${method}'`,
            target: method,
          })
          return
        }
        const s = entry.list[entry.next % entry.list.length] as ServerEntry
        entry.next = (entry.next + 1) % entry.list.length
        const did = ++s.client.nextDelivery
        // Kept (copied) to fail the call if the server dies; blobs and big requests time out instead.
        const keep =
          data instanceof BlobRef || data.length > KEEP_INFLIGHT_BYTES ? undefined : new Uint8Array(data)
        s.client.inflight.set(did, { method, data: keep })
        // Quiet, and before the request: the caller waits for the reply anyway, and the reply
        // cannot wake it before this ack is in its ring, so the wake-up finds both.
        this.#ok(client, corr, true)
        this.#w.reset().u32(s.id).u32(did)
        s.client.link.send(Op.Request, this.#w, data)
        return
      }
      case Op.Done: {
        client.inflight.delete(r.u32())
        return
      }
      default:
        throw new ProtocolError(`unknown shm message op ${f.op}`)
    }
  }

  /**
   * Acknowledges a bus's Enqueue with `corr` once this job ends: one Pushed for all the Enqueues
   * of the job (frames of a link are handled in order, so it covers every earlier one).
   */
  #enqueued(client: Client, corr: number): void {
    if (client.pushed) {
      client.pushed = corr
      return
    }
    client.pushed = corr
    this.#pushers.push(client)
    if (this.#pushers.length === 1) process.nextTick(() => this.#flushPushed())
  }

  #flushPushed(): void {
    for (const client of this.#pushers) {
      const corr = client.pushed as number
      client.pushed = 0
      client.link.send(Op.Pushed, this.#w.reset().u32(corr))
    }
    this.#pushers.length = 0
  }

  /** Reads a push's queue name, reusing the last string when the bytes are the same. */
  #queueName(r: FieldReader): string {
    const bytes = r.bytes()
    const last = this.#lastQueueBytes
    const n = bytes.length
    if (n === last.length) {
      // By hand: names are short, and Buffer#equals costs a native call.
      let i = 0
      while (i < n && bytes[i] === last[i]) i++
      if (i === n) return this.#lastQueue
    }
    this.#lastQueueBytes = Buffer.from(bytes)
    this.#lastQueue = this.#lastQueueBytes.toString('utf8')
    return this.#lastQueue
  }

  /** Writes a method's servers: `[u32 count]([str address][u32 sid])*`. */
  #members(method: string, w: FieldWriter): void {
    const list = this.#servers.get(method)?.list ?? []
    w.u32(list.length)
    for (const s of list) w.str(s.client.address).u32(s.id)
  }

  /** Pushes a method's servers to every bus that looked it up. */
  #announce(method: string): void {
    const set = this.#lookers.get(method)
    if (!set || set.size === 0) return
    this.#d.reset().str(method)
    this.#members(method, this.#d)
    for (const c of set) c.link.send(Op.Members, this.#d)
  }

  /** Sends raw bytes to an inbox address (used for lost-request replies). */
  #sendTo(to: string, data: Uint8Array): void {
    const target = this.#byAddress.get(to)
    if (!target) return
    this.#w.reset()
    target.link.send(Op.Inbox, this.#w, data)
  }

  #ok(client: Client, corr: number, quiet = false): void {
    this.#w.reset().u32(corr).u8(Status.Ok)
    client.link.send(Op.Reply, this.#w, undefined, quiet)
  }

  #fail(client: Client, corr: number, e: ReplyError): void {
    this.#w
      .reset()
      .u32(corr)
      .u8(Status.Error)
      .str(e.code)
      .str(e.message)
      .str(e.target ?? '')
    client.link.send(Op.Reply, this.#w)
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name)
    if (!q) {
      q = { items: [], consumers: [], next: 0 }
      this.#queues.set(name, q)
    }
    return q
  }

  #pump(name: string): void {
    const q = this.#queue(name)
    while (q.items.length > 0) {
      const c = this.#pickConsumer(q)
      if (!c) return
      const m = q.items.shift() as QueuedMessage
      const did = ++c.client.nextDelivery
      c.held.set(did, m)
      this.#w
        .reset()
        .u32(c.id)
        .u32(did)
        .u8(m.redelivered ? 1 : 0)
      c.client.link.send(Op.Delivery, this.#w, m.data)
    }
  }

  #pickConsumer(q: Queue): Consumer | undefined {
    for (let i = 0; i < q.consumers.length; i++) {
      const c = q.consumers[(q.next + i) % q.consumers.length] as Consumer
      if (c.held.size < c.concurrency) {
        q.next = (q.next + i + 1) % q.consumers.length
        return c
      }
    }
    return undefined
  }

  #stopConsumer(c: Consumer): void {
    c.stopped = true
    const q = this.#queue(c.queue)
    q.consumers = q.consumers.filter((x) => x !== c)
    if (c.held.size === 0) c.client.consumers.delete(c.id)
  }

  #removeConsumer(c: Consumer): void {
    this.#stopConsumer(c)
    c.client.consumers.delete(c.id)
    const held = [...c.held.values()].map((m) => ({ data: m.data, redelivered: true }))
    c.held.clear()
    if (held.length === 0) return
    this.#queue(c.queue).items.unshift(...held)
    this.#pump(c.queue)
  }

  #removeServer(s: ServerEntry): void {
    s.client.servers.delete(s.id)
    const entry = this.#servers.get(s.method)
    if (!entry) return
    entry.list = entry.list.filter((x) => x !== s)
    if (entry.list.length === 0) this.#servers.delete(s.method)
    this.#announce(s.method)
  }

  #notify(map: string, key: string, value: Uint8Array | undefined): void {
    const set = this.#watchers.get(map)
    if (!set) return
    for (const w of set) {
      this.#w
        .reset()
        .u32(w.id)
        .str(key)
        .u8(value ? 1 : 0)
      w.client.link.send(Op.Change, this.#w, value)
    }
  }
}

/** A private copy of inline data (a view into a batch buffer); blob and slab data are already private. */
function own(data: Uint8Array, f: Frame): Uint8Array {
  return f.blob || f.slab ? data : new Uint8Array(data) // Buffer#slice would share memory
}

function goneError(to: string): ReplyError {
  return { code: ErrorCode.Connection, message: `no bus at address ${to}: it has closed or its process died` }
}
