/**
 * The shm transport's bus side: links this process to the bus's broker (starting it when none
 * runs) and implements the SPI's four facilities as messages over the link's rings.
 * @module
 */
import type { Socket } from 'node:net'
import {
  type Closable,
  ClosedError,
  ConnectionError,
  type ConsumeOptions,
  type Delivery,
  ErrorCode,
  type GatheringMessaging,
  InvalidArgumentError,
  type Logger,
  type MapChangeListener,
  type MessageListener,
  NoHandlerError,
  type OpenContext,
  ProtocolError,
  type Supports,
  silentLogger,
  type Transport,
  UnipcError,
} from '@unipc/core/spi'
import { Dispatcher, readTargets } from './dispatcher.js'
import { Endpoint } from './endpoint.js'
import { sweepStale } from './gc.js'
import { watchForEof } from './handshake.js'
import {
  type DirectSink,
  type Frame,
  joinPayload,
  keepMallocSettings,
  type Payload,
  type ShmLink,
} from './link.js'
import { type BusPaths, bellPath, busPaths } from './paths.js'
import { Peers } from './peers.js'
import { QUEUE_PROTOCOL, QueueClient } from './queue-client.js'
import { connectSocket, offerLink } from './rendezvous.js'
import { spawnBroker } from './spawn-broker.js'
import { FieldWriter, Op, readEntries, Status } from './wire.js'

/** Settings of one shm transport (from the URL query or factory options). */
export interface ShmOptions {
  /** The bus name (`shm://<bus>`). */
  readonly bus: string
  /** Directory of sockets, bells and the broker log; default `<runtime dir>/shm`. */
  readonly dir: string | undefined
  /** Data bytes per ring direction (power of two). */
  readonly ringSize: number
  /** How long an auto-started broker lingers without buses, in ms. */
  readonly idleMs: number
  /** Largest payload, in bytes. */
  readonly maxPayload: number
  /**
   * Let the first large payload tune glibc's allocator of this process (and of a broker this bus
   * starts); false keeps the process's settings (see NativeAddon.tuneMalloc). Default true.
   */
  readonly tuneMalloc?: boolean
  /**
   * Busy-poll budget in µs: after a message is read or written, this process keeps polling its
   * rings this long before it sleeps (see the README, "Latency and CPU"). 0 turns it off.
   * Default 0 here; `createTransport` applies the package default.
   */
  readonly spinUs?: number
}

/** See {@link ShmTransport.spinStats}. */
export interface ShmSpinStats {
  /** Wall-clock µs spent polling the rings. */
  readonly polledUs: number
  /** Wake-ups the poll made unnecessary: it found a message and delivered it. */
  readonly deliveries: number
  /** Times the loop armed the rings and went to sleep after polling. */
  readonly sleeps: number
  /** The current polling window in µs (adapted between 0 and the budget). */
  readonly windowUs: number
}

interface PendingReply {
  readonly parse: (f: Frame) => unknown
  readonly resolve: (v: unknown) => void
  readonly reject: (e: Error) => void
}

/** How long a bus waits for an auto-started broker (a loaded machine starts node slowly). */
const CONNECT_TIMEOUT_MS = 30_000
/** Broker start-ups a bus waits through after its broker died before it gives up. */
const RECONNECT_ATTEMPTS = 3

/** A bus's connection to `shm://<bus>`. */
export class ShmTransport implements Transport {
  readonly name = 'shm'
  readonly supports: Supports = {
    redelivery: true,
    persistence: false,
    durableEvents: false,
    crossProcess: true,
    // Every delivered array is the receiver's alone: inline messages are views of the buffer
    // native read() copied them into out of the ring (each message its own range, which no later
    // read writes: reads fill a link's read buffer forward, then a new one), large ones a
    // fresh buffer copied out of the slab or blob, and a message to this bus itself is the
    // sender's frame, which core never touches after sending. Core then hands large call bodies
    // to the application as views (one 1 MiB copy less per side).
    ownedDeliveries: true,
    // A large body arrives as parts (frame start, the application's bytes, frame end), each copied
    // once, straight into the slab or blob (link.ts): no 1 MiB frame is built for it first.
    gatherWrites: true,
  }
  readonly limits: { maxPayload: number }
  readonly #options: ShmOptions
  readonly #w = new FieldWriter()
  readonly #pending = new Map<number, PendingReply>()
  readonly #consumers = new Map<number, (d: Delivery) => void>()
  readonly #watches = new Map<number, MapChangeListener>()
  readonly #subs = new Map<number, MessageListener>()
  readonly #servers = new Map<number, (d: Delivery) => void>()
  /** Pushes and acks of commands (batched per job with a broker that understands it). */
  readonly #queueClient = new QueueClient()
  #inbox: ((data: Uint8Array) => void) | undefined
  #endpoint: Endpoint | undefined
  #peers: Peers | undefined
  #dispatcher: Dispatcher | undefined
  #link: ShmLink | undefined
  #paths: BusPaths | undefined
  #closing: Promise<void> | undefined
  #component = ''
  /** How to register each live consumer, watch, subscription and server again after a reconnect. */
  readonly #registrations = new Map<number, () => Promise<void>>()
  #address = ''
  #nextId = 0
  #state: 'new' | 'opening' | 'open' | 'reconnecting' | 'broken' | 'closed' = 'new'
  #failure: Error | undefined
  #logger: Logger = silentLogger
  #onState: OpenContext['onState'] = () => {}

  /** @param options - bus name, directory and sizes */
  constructor(options: ShmOptions) {
    this.#options = options
    this.limits = { maxPayload: options.maxPayload }
    if (options.tuneMalloc === false) keepMallocSettings()
  }

  async open(context: OpenContext): Promise<void> {
    if (this.#state !== 'new') throw new ClosedError('open')
    this.#state = 'opening'
    this.#logger = context.logger
    this.#onState = context.onState
    const paths = busPaths(this.#options.bus, this.#options.dir)
    // Segments, doorbells and sockets of this bus left by killed processes go before we add ours.
    const swept = sweepStale(paths.dir, paths.bus)
    if (swept.segments.length + swept.bells.length > 0)
      this.#logger.info(`unipc shm: removed ${swept.segments.length} stale segment(s) of dead processes`)
    const endpoint = new Endpoint(
      bellPath(paths.dir, paths.bus),
      (link, frame) => this.#onFrame(link, frame),
      (link, err) => {
        if (link === this.#link)
          this.#lost(new ConnectionError(`shm link to the broker failed: ${err.message}`, { cause: err }))
        else {
          this.#logger.warn(`unipc shm: dropped the direct link with pid ${link.peerPid}: ${err.message}`)
          this.#peers?.failed(link)
        }
      },
      this.#logger,
      this.#options.spinUs ?? 0,
      this.#directSink(),
    )
    const peers = new Peers(paths, endpoint, this.#options.ringSize, context.component ?? '', this.#logger)
    this.#paths = paths
    this.#component = context.component ?? ''
    this.#endpoint = endpoint
    const self = this
    this.#peers = peers
    const dispatcher = new Dispatcher(
      {
        get address() {
          return self.#address
        },
        lookup: (method) =>
          this.#call('shm dispatch', Op.Lookup, (w) => w.str(method), undefined, readTargets),
        viaBroker: (method, data) => this.#viaBroker(method, data),
        serveLocally: (sid, data) => {
          const onRequest = this.#servers.get(sid)
          if (!onRequest) return false
          onRequest({ data, redelivered: false, ack: () => {} })
          return true
        },
        toInbox: (frame) => this.#inbox?.(frame),
      },
      peers,
    )
    peers.onGone = (address, delivered, who) => dispatcher.gone(address, delivered, who)
    this.#dispatcher = dispatcher
    try {
      await peers.listen()
      await this.#attach()
    } catch (err) {
      peers.close()
      endpoint.close()
      this.#state = 'closed'
      throw err
    }
    if (this.#state === 'opening') this.#state = 'open'
  }

  /** Links this bus to the broker (starting one if needed): handshake, segment, doorbells. */
  async #attach(): Promise<void> {
    const paths = this.#paths as BusPaths
    const endpoint = this.#endpoint as Endpoint
    const socket = await this.#connect(paths)
    try {
      const { link, welcome } = await offerLink(socket, {
        bus: paths.bus,
        ringSize: this.#options.ringSize,
        bell: endpoint.bellPath,
        extra: { component: this.#component, address: (this.#peers as Peers).address },
      })
      const address = welcome.address
      if (typeof address !== 'string' || (this.#address && address !== this.#address)) {
        link.close()
        throw new ProtocolError(`the shm broker gave this bus an unexpected address (${String(address)})`)
      }
      this.#link = link
      this.#address = address
      this.#queueClient.bulk = typeof welcome.queues === 'number' && welcome.queues >= QUEUE_PROTOCOL
      endpoint.add(link)
      watchForEof(socket, () =>
        this.#lost(new ConnectionError(`the shm broker of bus '${paths.bus}' (pid ${link.peerPid}) is gone`)),
      )
    } catch (err) {
      socket.destroy()
      throw err instanceof ConnectionError
        ? err
        : new ConnectionError(`shm broker: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * The broker died (or broke its ring): fail what waits on it, start or find a new broker, and
   * register this bus's consumers, watches, subscriptions and servers again. The broker's state
   * (settings, status, queued commands) died with it: shm keeps no state on disk.
   */
  #lost(err: ConnectionError): void {
    if (this.#state !== 'open') return
    this.#state = 'reconnecting'
    const old = this.#link
    this.#link = undefined
    if (old) {
      this.#endpoint?.links.delete(old)
      old.close()
    }
    this.#failure = err
    this.#logger.warn(`unipc shm: ${err.message}; reconnecting`)
    this.#rejectAll(err)
    // The new broker will tell who serves what when asked again; direct requests carry on.
    this.#dispatcher?.reset()
    this.#onState('reconnecting', err)
    void (async () => {
      // Keep trying while the bus is open: a loaded machine may take long to start a broker.
      for (let attempt = 1; (this.#state as string) === 'reconnecting'; attempt++) {
        try {
          await this.#attach()
          break
        } catch (cause) {
          this.#logger.warn(`unipc shm: reconnect attempt ${attempt} failed: ${(cause as Error).message}`)
          if (attempt >= RECONNECT_ATTEMPTS) {
            this.#fail(
              new ConnectionError(`cannot reconnect to the shm broker: ${(cause as Error).message}`, {
                cause,
              }),
            )
            return
          }
        }
      }
      if ((this.#state as string) !== 'reconnecting') {
        // Closed meanwhile: the new link goes too.
        this.#link?.close()
        return
      }
      this.#state = 'open'
      const again = await Promise.allSettled([...this.#registrations.values()].map((announce) => announce()))
      for (const r of again)
        if (r.status === 'rejected')
          this.#logger.warn('unipc shm: could not register again with the new broker', r.reason)
      this.#onState('connected')
    })()
  }

  /**
   * Diagnostics of the busy-poll (the `spin` option): wall-clock µs spent polling, messages
   * delivered by the poll (no doorbell, no wake-up), times the loop went to sleep after polling,
   * and the current window in µs (it adapts between 0 and the budget). Zeros when not spinning.
   */
  spinStats(): ShmSpinStats {
    const [polledUs = 0, deliveries = 0, sleeps = 0, windowUs = 0] = this.#endpoint?.spinStats() ?? []
    return { polledUs, deliveries, sleeps, windowUs }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#closing) return this.#closing
    // Replies the core sent just before closing are still on their way (a direct link may be
    // connecting, a ring may be full): let them leave first, briefly.
    this.#closing = (async () => {
      if (this.#state === 'open') await this.#peers?.drain(2000)
      this.#state = 'closed'
      this.#peers?.close()
      this.#endpoint?.close()
      this.#rejectAll(new ClosedError('shm operation'))
      this.#dispatcher?.clear()
    })()
    return this.#closing
  }

  /** Connects to the bus's broker socket, starting a broker when none answers. */
  async #connect(paths: BusPaths): Promise<Socket> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS
    let spawned = false
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      try {
        return await connectSocket(paths.socket)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOENT' && code !== 'ECONNREFUSED')
          throw new ConnectionError(`cannot reach the shm broker at ${paths.socket}`, { cause: err })
        if (Date.now() > deadline)
          throw new ConnectionError(
            `the shm broker of bus '${paths.bus}' did not start within ${CONNECT_TIMEOUT_MS} ms; see ${paths.log}`,
            { cause: err },
          )
        if (!spawned) {
          spawnBroker(paths, this.#options.idleMs, this.#options.tuneMalloc !== false)
          spawned = true
        }
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  #fail(err: Error): void {
    if (this.#state === 'closed' || this.#state === 'broken') return
    this.#state = 'broken'
    this.#failure = err
    this.#logger.warn(`unipc shm: ${err.message}`)
    this.#peers?.close()
    this.#endpoint?.close()
    this.#rejectAll(err)
    this.#dispatcher?.clear()
    this.#onState('closed', err)
  }

  #rejectAll(err: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(err)
    this.#queueClient.rejectAll(err)
  }

  #assert(what: string): ShmLink {
    if (this.#state === 'open' && this.#link) return this.#link
    if (this.#state === 'broken' || this.#state === 'reconnecting') {
      const failure = this.#failure as Error
      throw new ConnectionError(`${what} failed: ${failure.message}`, { cause: failure })
    }
    throw new ClosedError(what)
  }

  /** Sends a message that the broker answers; `parse` reads the reply's fields synchronously. */
  #call<T>(
    what: string,
    op: number,
    write: (w: FieldWriter) => void,
    data?: Payload,
    parse?: (f: Frame) => T,
  ): Promise<T> {
    // Inside the executor: a closed or broken transport rejects, it never throws synchronously.
    return new Promise<T>((resolve, reject) => {
      const link = this.#assert(what)
      const corr = this.#newId()
      this.#pending.set(corr, {
        parse: parse ?? (() => undefined),
        resolve: resolve as (v: unknown) => void,
        reject,
      })
      write(this.#w.reset().u32(corr))
      link.send(op, this.#w, data)
    })
  }

  #newId(): number {
    this.#nextId = (this.#nextId + 1) >>> 0 || 1
    return this.#nextId
  }

  /** Dispatch through the broker: it picks a server or answers NoHandlerError. */
  #viaBroker(method: string, data: Payload): Promise<void> {
    return this.#call('shm dispatch', Op.Dispatch, (w) => w.str(method), data)
  }

  #onFrame(link: ShmLink, f: Frame): void {
    const r = f.fields
    if (link !== this.#link) {
      switch (f.op) {
        case Op.Inbox:
          this.#inbox?.(link.data(f))
          return
        case Op.Request:
          this.#onRequest(link, f, true)
          return
        case Op.Done:
          // One or more delivery ids: a server writes a job's Dones in one frame.
          do {
            const did = r.u32()
            this.#dispatcher?.done(did)
          } while (r.more())
          return
        case Op.Refused:
          this.#dispatcher?.refused(r.u32())
          return
        default:
          throw new ProtocolError(`a direct link may not carry op ${f.op}`)
      }
    }
    switch (f.op) {
      case Op.Reply: {
        const corr = r.u32()
        const p = this.#pending.get(corr)
        const status = r.u8()
        if (!p) return
        this.#pending.delete(corr)
        if (status === Status.Ok) {
          let value: unknown
          try {
            value = p.parse(f)
          } catch (err) {
            p.reject(err as Error)
            return
          }
          p.resolve(value)
        } else p.reject(replyError(r.str(), r.str(), r.str()))
        return
      }
      case Op.Pushed:
        this.#queueClient.pushed(r.u32())
        return
      case Op.Delivery: {
        const cid = r.u32()
        const did = r.u32()
        const redelivered = r.u8() === 1
        const data = link.data(f)
        const onDelivery = this.#consumers.get(cid)
        if (onDelivery) this.#queueClient.deliver(link, cid, did, redelivered, data, onDelivery)
        return
      }
      case Op.Change: {
        const listener = this.#watches.get(r.u32())
        const key = r.str()
        const present = r.u8() === 1
        const value = present ? link.data(f) : undefined
        listener?.(key, value)
        return
      }
      case Op.Message: {
        const listener = this.#subs.get(r.u32())
        const channel = r.str()
        const data = link.data(f)
        listener?.(channel, data)
        return
      }
      case Op.Inbox:
        this.#inbox?.(link.data(f))
        return
      case Op.Request:
        this.#onRequest(link, f, false)
        return
      case Op.Members: {
        const method = r.str()
        this.#dispatcher?.members(method, readTargets(f))
        return
      }
      default:
        throw new ProtocolError(`unknown shm message op ${f.op} from the broker`)
    }
  }

  /** What direct links hand over without a Frame (see DirectSink): the common messages of calls. */
  #directSink(): DirectSink {
    return {
      inbox: (data) => this.#inbox?.(data),
      request: (link, sid, did, data) => {
        const onRequest = this.#servers.get(sid)
        if (onRequest) onRequest(new DirectDelivery(data, link, did))
        else link.send(Op.Refused, this.#w.reset().u32(did))
      },
      done: (did) => this.#dispatcher?.done(did),
      dropped: (link, op, err) =>
        this.#logger.warn(`unipc shm: dropped a message (op ${op}) from pid ${link.peerPid}`, err),
    }
  }

  /**
   * A request for one of our servers, from the broker or (direct) from the caller's bus. Done goes
   * back on the same link once the core acknowledges (after its reply); a direct request for a
   * server we no longer run is Refused, so the caller asks the broker again.
   */
  #onRequest(link: ShmLink, f: Frame, direct: boolean): void {
    const r = f.fields
    const onRequest = this.#servers.get(r.u32())
    const did = r.u32()
    if (!onRequest && direct) {
      link.send(Op.Refused, this.#w.reset().u32(did))
      return
    }
    const delivery = new RequestDelivery(link.data(f), link, did, direct ? undefined : this.#w)
    if (onRequest) onRequest(delivery)
    else delivery.ack()
  }

  /**
   * Registers a consumer, watch, subscription or server: remembers `callback` under a new id,
   * tells the broker (again after a reconnect), and returns a handle whose close() undoes both.
   */
  async #register<T>(
    registry: Map<number, T>,
    callback: T,
    what: string,
    op: number,
    closeOp: number,
    write: (w: FieldWriter) => void,
  ): Promise<Closable> {
    const id = this.#newId()
    registry.set(id, callback)
    const announce = (): Promise<void> => this.#call(what, op, (w) => write(w.u32(id)))
    try {
      await announce()
    } catch (err) {
      registry.delete(id)
      throw err
    }
    this.#registrations.set(id, announce)
    let closed = false
    return {
      close: async () => {
        if (closed) return
        closed = true
        registry.delete(id)
        this.#registrations.delete(id)
        if (this.#state !== 'open') return
        await this.#call(what, closeOp, (w) => w.u32(id))
      },
    }
  }

  readonly queues = {
    push: (queue: string, data: Uint8Array): Promise<void> => {
      if (!this.#queueClient.bulk) return this.#call('shm push', Op.Push, (w) => w.str(queue), data)
      let link: ShmLink
      try {
        link = this.#assert('shm push')
      } catch (err) {
        return Promise.reject(err)
      }
      return this.#queueClient.push(link, this.#newId(), queue, data)
    },
    consume: async (
      queue: string,
      onDelivery: (d: Delivery) => void,
      options: ConsumeOptions,
    ): Promise<Closable> => {
      return this.#register(this.#consumers, onDelivery, 'shm consume', Op.Consume, Op.Unconsume, (w) =>
        w.str(queue).u32(options.concurrency),
      )
    },
  }

  readonly maps = {
    get: (map: string, key: string): Promise<Uint8Array | undefined> =>
      this.#call(
        'shm get',
        Op.Get,
        (w) => w.str(map).str(key),
        undefined,
        (f) => (f.fields.u8() === 1 ? (this.#link as ShmLink).data(f) : undefined),
      ),
    getAll: (map: string): Promise<Map<string, Uint8Array>> =>
      this.#call(
        'shm getAll',
        Op.GetAll,
        (w) => w.str(map),
        undefined,
        (f) => readEntries((this.#link as ShmLink).data(f), false),
      ),
    set: (map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> => {
      const d = new FieldWriter().u32(entries.size)
      for (const [k, v] of entries) d.str(k).bytes(v)
      return this.#call('shm set', Op.Set, (w) => w.str(map), d.view())
    },
    delete: (map: string, keys: readonly string[]): Promise<void> =>
      this.#call('shm delete', Op.Delete, (w) => {
        w.str(map).u32(keys.length)
        for (const k of keys) w.str(k)
      }),
    watch: async (map: string, onChange: MapChangeListener): Promise<Closable> => {
      return this.#register(this.#watches, onChange, 'shm watch', Op.Watch, Op.Unwatch, (w) => w.str(map))
    },
  }

  readonly pubsub = {
    publish: (channel: string, data: Uint8Array): void => {
      // Events are at-most-once: while the broker is being replaced they are dropped, not thrown.
      if (this.#state === 'reconnecting') return
      const link = this.#assert('shm publish')
      link.send(Op.Publish, this.#w.reset().str(channel), data)
    },
    subscribe: async (pattern: string, onMessage: MessageListener): Promise<Closable> => {
      return this.#register(this.#subs, onMessage, 'shm subscribe', Op.Subscribe, Op.Unsubscribe, (w) =>
        w.str(pattern),
      )
    },
  }

  readonly messaging: GatheringMessaging = this.#messaging()

  #messaging(): GatheringMessaging {
    const self = this
    return {
      get address(): string {
        return self.#address
      },
      onMessage: (handler: (data: Uint8Array) => void): void => {
        this.#inbox = handler
      },
      send: (to: string, data: Payload): void => {
        if (this.#state !== 'open' && this.#state !== 'reconnecting') this.#assert('shm send')
        if (to === self.#address) {
          // To ourselves (a bus calling its own server): no link needed, still asynchronous.
          // Parts are joined now: the application may reuse its body once this returns.
          const bytes = joinPayload(data)
          queueMicrotask(() => self.#inbox?.(bytes))
          return
        }
        // Straight to the other bus when `to` is a direct address (see peers.ts).
        if (self.#peers?.send(to, data)) return
        // Otherwise through the broker. corr 0: fire-and-forget; a gone address is dropped
        // (replies to callers that left have nobody to read them).
        const link = this.#assert('shm send')
        link.send(Op.Send, this.#w.reset().u32(0).str(to), data)
      },
      serve: async (method: string, onRequest: (d: Delivery) => void): Promise<Closable> => {
        return this.#register(this.#servers, onRequest, 'shm serve', Op.Serve, Op.Unserve, (w) =>
          w.str(method),
        )
      },
      dispatch: (method: string, data: Payload): Promise<void> | undefined => {
        const dispatcher = this.#dispatcher
        // Known servers are reached directly even while the broker is being replaced.
        if (!dispatcher || (this.#state !== 'open' && this.#state !== 'reconnecting'))
          return this.#viaBroker(method, data)
        return dispatcher.dispatch(method, data)
      },
    }
  }
}

/** A request delivered to one of this bus's servers: acknowledging it answers Done (one object, no closure). */
class RequestDelivery implements Delivery {
  readonly redelivered = false
  #acked = false

  /**
   * @param data - the request
   * @param link - the link it came on
   * @param did - its delivery id there
   * @param viaBroker - the writer for a Done to the broker; undefined for a direct link
   */
  constructor(
    readonly data: Uint8Array,
    private readonly link: ShmLink,
    private readonly did: number,
    private readonly viaBroker: FieldWriter | undefined,
  ) {}

  ack(): void {
    if (this.#acked || this.link.closed) return
    this.#acked = true
    // Quiet on a direct link, batched per job: the reply, written just before, has woken the
    // caller (or will find this with it).
    if (this.viaBroker) this.link.send(Op.Done, this.viaBroker.reset().u32(this.did))
    else this.link.done(this.did)
  }
}

/**
 * A request delivered over a direct link: acknowledging it answers Done, batched per job (see
 * ShmLink.done). Three fields: it is made for every request this bus serves.
 */
class DirectDelivery implements Delivery {
  /**
   * @param data - the request
   * @param link - the link it came on
   * @param did - its delivery id there; -1 once acknowledged
   */
  constructor(
    readonly data: Uint8Array,
    private readonly link: ShmLink,
    private did: number,
  ) {}

  get redelivered(): boolean {
    return false
  }

  ack(): void {
    const did = this.did
    if (did < 0 || this.link.closed) return
    this.did = -1
    // Quiet, batched per job: the reply, written just before, has woken the caller (or will find
    // this with it).
    this.link.done(did)
  }
}

function replyError(code: string, message: string, target: string): UnipcError {
  switch (code) {
    case ErrorCode.NoHandler:
      return new NoHandlerError(target || message)
    case ErrorCode.InvalidArgument:
      return new InvalidArgumentError(message)
    case ErrorCode.Connection:
      return new ConnectionError(message)
    default:
      return new UnipcError(message, code || ErrorCode.Protocol)
  }
}
