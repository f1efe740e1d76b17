/**
 * Requests and replies. Each bus has an inbox: a channel `<p>inbox:<address>` it SUBSCRIBEs to;
 * replies, stream items and control frames are PUBLISHed there (one sender's messages keep their
 * order). Each method has a stream `<p>rq:{<method>}` with consumer group `servers`; every server
 * instance reads as its own consumer (XREADGROUP … BLOCK on a dedicated connection) and XACKs an
 * entry once the handler is done (answered entries are trimmed every beat). A registry of live
 * servers (sorted set scored by expiry) and the liveness key it keeps (deleted with the last live
 * server) let `dispatch` fail fast with NoHandlerError without a script. Servers
 * keep the entries they hold fresh (XCLAIM … JUSTID); entries of a dead server go idle and a live
 * one takes them over (XAUTOCLAIM).
 * @module
 */
import { type Closable, type Delivery, type MessagingTransport, NoHandlerError } from '@unipc/core/spi'
import { toBuffer } from '../bytes.js'
import { type Client, commandBuffer, endClient, readyToResume } from '../client.js'
import type { RedisContext } from '../context.js'
import { type Deferred, deferred } from '../deferred.js'
import { redisCall, toUnipcError } from '../errors.js'
import { encode, encode1, encodeHead, RespHead, sendRaw } from '../raw.js'
import { forEachFrame } from './envelope.js'
import { inboxChannel, type MethodKeys, methodKeys, SERVER_GROUP } from './keys.js'
import { withScripts } from './scripts.js'

type StreamEntry = [Buffer, Buffer[] | null]

/** Requests for one method dispatched in one turn: their XADDs and one GET of the liveness key. */
interface DispatchBatch {
  readonly method: string
  readonly frames: Buffer[]
  /** One per frame: each request learns alone whether it went out or nobody serves the method. */
  readonly done: Deferred<void>[]
}

/** A method's keys and the hand-encoded heads of the commands a dispatch sends. */
interface MethodWire {
  readonly keys: MethodKeys
  /** `XADD <stream> NOMKSTREAM * frame`, the frame follows. */
  readonly xadd: RespHead
  readonly get: RespHead
  /** The whole `GET <alive>`. */
  readonly getBytes: Buffer
}

function methodWire(keys: MethodKeys): MethodWire {
  const get = new RespHead(['GET', keys.alive])
  return {
    keys,
    xadd: new RespHead(['XADD', keys.stream, 'NOMKSTREAM', '*', 'frame']),
    get,
    getBytes: encodeHead(get),
  }
}

/** Remembers up to this many derived names or counts (then starts over). */
const CACHE_SIZE = 4096

/** A small memo of derived names (keys, channels), reset when it grows past its size. */
function memo<V>(make: (name: string) => V): (name: string) => V {
  let cache = new Map<string, V>()
  return (name) => {
    let v = cache.get(name)
    if (v === undefined) {
      if (cache.size >= CACHE_SIZE) cache = new Map()
      v = make(name)
      cache.set(name, v)
    }
    return v
  }
}

/** The native messaging facility. */
export class NativeMessaging implements MessagingTransport {
  readonly address: string
  #handler: ((data: Uint8Array) => void) | undefined
  readonly #servers = new Set<Server>()
  #next = 0
  readonly #inbox: (address: string) => string
  readonly #keys: (method: string) => MethodKeys
  readonly #wire: (method: string) => MethodWire
  /** Dispatch batches of this turn, in order, and the open one per method. */
  #dispatches: DispatchBatch[] = []
  readonly #open = new Map<string, DispatchBatch>()

  constructor(private readonly ctx: RedisContext) {
    this.address = ctx.id
    const prefix = ctx.config.prefix
    this.#inbox = memo((address) => inboxChannel(prefix, address))
    this.#keys = memo((method) => methodKeys(prefix, method))
    this.#wire = memo((method) => methodWire(this.#keys(method)))
  }

  /** Subscribes to this bus's inbox (a message is one frame or an envelope of several). */
  async open(): Promise<void> {
    const onFrame = (frame: Buffer): void => this.deliverToInbox(frame)
    await this.ctx.sub.subscribe(inboxChannel(this.ctx.config.prefix, this.address), (_c, message) => {
      if (!forEachFrame(message, onFrame)) this.ctx.logger.warn('unipc: dropped a malformed inbox envelope')
    })
  }

  /** Hands a frame to the core's inbox handler. */
  deliverToInbox(data: Uint8Array): void {
    try {
      this.#handler?.(data)
    } catch (err) {
      this.ctx.logger.error('unipc: inbox handler threw', err)
    }
  }

  onMessage(handler: (data: Uint8Array) => void): void {
    this.#handler = handler
  }

  /** Publishes the frame on the inbox at the end of the turn (frames for one inbox share a PUBLISH). */
  send(to: string, data: Uint8Array): Promise<void> {
    return this.ctx.publisher.send(this.#inbox(to), to, toBuffer(data))
  }

  async serve(method: string, onRequest: (delivery: Delivery) => void): Promise<Closable> {
    const consumer = `${this.address}.${++this.#next}`
    const server = new Server(this.ctx, this.#keys(method), method, consumer, onRequest)
    this.#servers.add(server)
    try {
      await server.start()
    } catch (err) {
      this.#servers.delete(server)
      await server.stop()
      throw err
    }
    return {
      close: async () => {
        this.#servers.delete(server)
        await server.stop()
      },
    }
  }

  /**
   * Adds the request to the method's stream at the end of the turn: the requests of one method in
   * one turn are XADDs (NOMKSTREAM) followed by one GET of the method's liveness key, all in the
   * turn's socket write and without a script; when the key is gone nobody serves the method, and the
   * requests no server has read yet are taken back and fail with NoHandlerError.
   */
  dispatch(method: string, data: Uint8Array): Promise<void> {
    const frame = toBuffer(data)
    let batch = this.#open.get(method)
    if (batch === undefined) {
      if (this.#dispatches.length === 0) this.ctx.batch.schedule(this.#flushDispatches)
      batch = { method, frames: [], done: [] }
      this.#dispatches.push(batch)
      this.#open.set(method, batch)
    }
    const done = deferred<void>()
    batch.frames.push(frame)
    batch.done.push(done)
    return done.promise
  }

  readonly #flushDispatches = (): void => {
    const batches = this.#dispatches
    this.#dispatches = []
    this.#open.clear()
    for (const b of batches) {
      try {
        this.#dispatchBatch(b)
      } catch (err) {
        for (const d of b.done) d.reject(err)
      }
    }
  }

  #dispatchBatch({ method, frames, done }: DispatchBatch): void {
    const wire = this.#wire(method)
    const cmd = this.ctx.cmd
    const n = frames.length
    const ids: (Buffer | null)[] = new Array(n).fill(null)
    let left = n + 1
    let live: unknown = null
    let failure: Error | null = null
    const settle = (): void => {
      if (failure) {
        const e = toUnipcError(failure, `dispatching '${method}'`)
        for (const d of done) d.reject(e)
      } else this.#settleDispatch(method, wire.keys, ids, live, done)
    }
    // Each XADD is its own command, so Redis hands each new entry to a waiting server at once: a
    // burst spreads over every server of the method that is blocked reading.
    for (let i = 0; i < n; i++) {
      const f = frames[i] as Buffer
      const onAdded = (err: Error | null, id: unknown): void => {
        if (err) failure ??= err
        else ids[i] = id as Buffer | null
        if (--left === 0) settle()
      }
      sendRaw(cmd, wire.xadd, encode1(wire.xadd, f), onAdded, [f])
    }
    const onAlive = (err: Error | null, value: unknown): void => {
      if (err) failure ??= err
      else live = value
      if (--left === 0) settle()
    }
    sendRaw(cmd, wire.get, wire.getBytes, onAlive)
  }

  /** Settles a dispatch batch once Redis answered its XADDs (entry ids) and its GET (liveness). */
  #settleDispatch(
    method: string,
    keys: MethodKeys,
    ids: (Buffer | null)[],
    live: unknown,
    done: Deferred<void>[],
  ): void {
    if (live !== null) {
      // The stream is missing only when Redis lost it (a restart without persistence): no server.
      for (let i = 0; i < ids.length; i++)
        if (ids[i] === null) done[i]?.reject(new NoHandlerError(method))
        else done[i]?.resolve()
      return
    }
    const taken: string[] = []
    for (const id of ids) if (id !== null) taken.push(id.toString())
    const back =
      taken.length > 0
        ? withScripts(this.ctx.cmd).unipcUndispatch(keys.stream, SERVER_GROUP, ...taken)
        : Promise.resolve([])
    back.then(
      (deleted) => {
        let k = 0
        for (let i = 0; i < ids.length; i++) {
          // A request a server already read (it registered just now) counts as dispatched.
          if (ids[i] !== null && deleted[k++] === 0) done[i]?.resolve()
          else done[i]?.reject(new NoHandlerError(method))
        }
      },
      (err: unknown) => {
        const e = toUnipcError(err, `dispatching '${method}'`)
        for (const d of done) d.reject(e)
      },
    )
  }

  /** Stops every server (transport close). */
  async stopAll(): Promise<void> {
    const servers = [...this.#servers]
    this.#servers.clear()
    await Promise.allSettled(servers.map((s) => s.stop()))
  }
}

/** One server instance of one method: a consumer of the method's group with its own connection. */
class Server {
  /** Entry ids handed to the handler and not yet acknowledged. */
  readonly inFlight = new Set<string>()
  #blocker: Client | undefined
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #offReconnect: (() => void) | undefined
  /** The recovery after a lost blocking read, while it runs. */
  #resuming: Promise<void> | undefined
  /** Counts blocking reads; a reply that is not of the open read (a lost one) is ignored. */
  #readSeq = 0
  #readOpen = false
  /** The blocking read, encoded once: `XREADGROUP GROUP servers <consumer> … STREAMS <stream> >`. */
  readonly #readHead: RespHead
  readonly #readBytes: Buffer
  /** `XACK <stream> servers`, the ids follow. */
  readonly #ackHead: RespHead

  constructor(
    private readonly ctx: RedisContext,
    readonly keys: MethodKeys,
    readonly method: string,
    readonly consumer: string,
    private readonly onRequest: (d: Delivery) => void,
  ) {
    this.#readHead = new RespHead([
      'XREADGROUP',
      'GROUP',
      SERVER_GROUP,
      consumer,
      'COUNT',
      '64',
      'BLOCK',
      '0',
      'STREAMS',
      keys.stream,
      '>',
    ])
    this.#readBytes = encodeHead(this.#readHead)
    this.#ackHead = new RespHead(['XACK', keys.stream, SERVER_GROUP])
  }

  async start(): Promise<void> {
    await redisCall(`serving '${this.method}'`, () => this.#register())
    const blocker = await this.ctx.blocking(`unipc:server:${this.method}:${this.consumer}`)
    this.#blocker = blocker
    // ioredis does not resend (nor ever settle) a blocking read lost with its connection.
    blocker.on('close', () => {
      if (!this.#readOpen) return
      this.#readOpen = false
      this.#lost(new Error('connection closed while blocking'))
    })
    this.#timer = setInterval(
      () => void this.#tick(),
      Math.max(50, Math.floor(this.ctx.config.workerTtl / 3)),
    )
    this.#timer.unref()
    this.#offReconnect = this.ctx.onReconnect(() => void this.#tick())
    this.#armRead()
    void this.#claim().catch(() => {})
  }

  #register(): Promise<number> {
    return withScripts(this.ctx.cmd).unipcRegister(
      this.keys.stream,
      this.keys.servers,
      this.keys.alive,
      this.consumer,
      this.ctx.config.workerTtl,
      SERVER_GROUP,
    )
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return
    try {
      await this.#register()
      if (this.inFlight.size > 0) {
        // Resets the idle time of what we hold so nobody takes it over while we work on it.
        await this.ctx.cmd.xclaim(
          this.keys.stream,
          SERVER_GROUP,
          this.consumer,
          0,
          ...[...this.inFlight],
          'JUSTID',
        )
      }
      await this.#claim()
      await withScripts(this.ctx.cmd).unipcTrim(this.keys.stream, SERVER_GROUP)
      if (++this.#ticks % 30 === 0) await this.#pruneConsumers()
    } catch (err) {
      this.ctx.logger.debug(`unipc: server heartbeat of '${this.method}' failed`, err)
    }
  }

  #ticks = 0
  /**
   * Deletes consumers of crashed servers once nothing is pending on them and they have been idle
   * for 10 TTLs, so the group does not collect a consumer per crash.
   */
  async #pruneConsumers(): Promise<void> {
    const rows = (await this.ctx.cmd.xinfo('CONSUMERS', this.keys.stream, SERVER_GROUP)) as unknown[][]
    const limit = this.ctx.config.workerTtl * 10
    for (const row of rows) {
      const info: Record<string, unknown> = {}
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1]
      const name = String(info.name)
      if (name !== this.consumer && info.pending === 0 && Number(info.idle) > limit)
        await this.ctx.cmd.xgroup('DELCONSUMER', this.keys.stream, SERVER_GROUP, name)
    }
  }

  /** Takes over entries idle longer than the worker TTL: their server died. */
  async #claim(): Promise<void> {
    const reply = (await commandBuffer(this.ctx.cmd, 'XAUTOCLAIM', [
      this.keys.stream,
      SERVER_GROUP,
      this.consumer,
      String(this.ctx.config.workerTtl),
      '0-0',
      'COUNT',
      '32',
    ])) as [Buffer, StreamEntry[], Buffer[]?]
    const entries = reply[1] ?? []
    if (entries.length > 0)
      this.ctx.logger.info(`unipc: took over ${entries.length} request(s) of a dead '${this.method}' server`)
    for (const entry of entries) this.#deliver(entry, true)
  }

  /** Blocks reading new entries (a hand-encoded XREADGROUP … BLOCK 0 on the dedicated connection). */
  readonly #armRead = (): void => {
    if (this.#stopped) return
    const seq = ++this.#readSeq
    this.#readOpen = true
    sendRaw(this.#blocker as Client, this.#readHead, this.#readBytes, (err, reply) =>
      this.#onRead(seq, err, reply),
    )
  }

  #onRead(seq: number, err: Error | null, reply: unknown): void {
    if (seq !== this.#readSeq || !this.#readOpen) return
    this.#readOpen = false
    if (err) {
      this.#lost(err)
      return
    }
    if (reply)
      for (const [, entries] of reply as [Buffer, StreamEntry[]][])
        for (const entry of entries) this.#deliver(entry, false)
    // Block again only once the answers of this turn are written (see TurnBatcher.afterFlush).
    this.ctx.batch.afterFlush(this.#armRead)
  }

  /** The blocking read failed or its connection closed: recover, then block again. */
  #lost(err: Error): void {
    if (this.#stopped) return
    this.ctx.logger.debug(`unipc: server of '${this.method}' lost its connection; resuming`, err)
    const blocker = this.#blocker as Client
    this.#resuming = (async () => {
      if (!(await readyToResume(blocker))) return
      await new Promise((r) => setTimeout(r, 50))
      // After a Redis restart the stream and group are gone: create them again.
      await this.#register().catch(() => {})
      await this.#recover().catch(() => {})
      this.#armRead()
    })()
  }

  /** XREADGROUP of this consumer's own pending entries (`0`), on the command connection. */
  #readPending(): Promise<unknown> {
    return commandBuffer(this.ctx.cmd, 'XREADGROUP', [
      'GROUP',
      SERVER_GROUP,
      this.consumer,
      'COUNT',
      '64',
      'STREAMS',
      this.keys.stream,
      '0',
    ])
  }

  /**
   * After a lost connection the reply of a read may be lost while Redis already counted its entries
   * as ours: deliver our own pending entries that the handler does not have (acknowledgements were
   * sent before, on the same connection, so acknowledged entries are not read back).
   */
  async #recover(): Promise<void> {
    this.#flushAcks()
    const reply = (await this.#readPending()) as [Buffer, StreamEntry[]][] | null
    for (const [, entries] of reply ?? []) for (const entry of entries) this.#deliver(entry, true)
  }

  #deliver([rawId, fields]: StreamEntry, redelivered: boolean): void {
    const id = rawId.toString()
    const data = fields && fields.length >= 2 ? fields[1] : undefined
    if (!data || this.inFlight.has(id)) return
    this.inFlight.add(id)
    let acked = false
    const delivery: Delivery = {
      data,
      redelivered,
      ack: () => {
        if (acked) return
        acked = true
        this.inFlight.delete(id)
        this.#ack(id)
      },
    }
    try {
      this.onRequest(delivery)
    } catch (err) {
      this.ctx.logger.error(`unipc: request delivery of '${this.method}' threw`, err)
    }
  }

  #acks: string[] = []
  /**
   * Acknowledges an entry at the end of the turn: one XACK for every entry answered in the turn, in
   * the same socket write as (and after) their replies; answered entries are trimmed each beat.
   */
  #ack(id: string): void {
    if (this.#acks.length === 0) this.ctx.batch.schedule(this.#flushAcks, true)
    this.#acks.push(id)
    // A stopped server leaves the group once its last answer (and acknowledgement) is written.
    if (this.#stopped && this.inFlight.size === 0) this.ctx.batch.schedule(() => void this.#forget(), true)
  }

  readonly #flushAcks = (): void => {
    const ids = this.#acks
    if (ids.length === 0) return
    this.#acks = []
    const head = this.#ackHead
    sendRaw(this.ctx.cmd, head, encode(head, ids), this.#onAcked, ids)
  }

  readonly #onAcked = (err: Error | null): void => {
    if (err) this.ctx.logger.debug(`unipc: acknowledging '${this.method}' requests failed`, err)
  }

  /** Stops serving: leaves the registry at once; the consumer goes once its requests are answered. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    this.#offReconnect?.()
    if (this.#blocker) endClient(this.#blocker)
    await this.#resuming
    await withScripts(this.ctx.cmd)
      .unipcUnregister(this.keys.stream, this.keys.servers, this.keys.alive, this.consumer)
      .catch(() => {})
    if (this.inFlight.size === 0) await this.#forget()
  }

  async #forget(): Promise<void> {
    this.#flushAcks()
    await this.ctx.cmd.xgroup('DELCONSUMER', this.keys.stream, SERVER_GROUP, this.consumer).catch(() => {})
  }
}
