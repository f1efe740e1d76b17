/**
 * Requests and replies. Each bus has an inbox: a channel `<p>inbox:<address>` it SUBSCRIBEs to;
 * replies, stream items and control frames are PUBLISHed there (one sender's messages keep their
 * order). Each method has a stream `<p>rq:{<method>}` with consumer group `servers`; every server
 * instance reads as its own consumer (XREADGROUP … BLOCK on a dedicated connection) and XACKs an
 * entry once the handler is done (answered entries are trimmed every beat). A registry of live
 * servers (sorted set scored by expiry) lets `dispatch` fail fast with NoHandlerError. Servers
 * keep the entries they hold fresh (XCLAIM … JUSTID); entries of a dead server go idle and a live
 * one takes them over (XAUTOCLAIM).
 * @module
 */
import {
  type Closable,
  ConnectionError,
  type Delivery,
  type MessagingTransport,
  NoHandlerError,
} from '@unipc/core/spi'
import { toBuffer } from '../bytes.js'
import { type Client, commandBuffer, corked, readyToResume, untilClosed } from '../client.js'
import type { RedisContext } from '../context.js'
import { mapRejection, redisCall } from '../errors.js'
import { inboxChannel, type MethodKeys, methodKeys, SERVER_GROUP } from './keys.js'
import { withScripts } from './scripts.js'

type StreamEntry = [Buffer, Buffer[] | null]

/** The native messaging facility. */
export class NativeMessaging implements MessagingTransport {
  readonly address: string
  #handler: ((data: Uint8Array) => void) | undefined
  readonly #servers = new Set<Server>()
  #next = 0

  constructor(private readonly ctx: RedisContext) {
    this.address = ctx.id
  }

  /** Subscribes to this bus's inbox. */
  async open(): Promise<void> {
    await this.ctx.sub.subscribe(inboxChannel(this.ctx.config.prefix, this.address), (_c, message) =>
      this.deliverToInbox(message),
    )
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

  send(to: string, data: Uint8Array): Promise<void> {
    const cluster = this.ctx.config.mode === 'cluster'
    return mapRejection(
      `sending to ${to}`,
      corked(this.ctx.cmd).publish(inboxChannel(this.ctx.config.prefix, to), toBuffer(data)),
    ).then((receivers) => {
      // In a Cluster PUBLISH counts only the receivers on the node it ran on, so 0 proves nothing there.
      if (receivers === 0 && !cluster) throw new ConnectionError(`no bus at address ${to}: it has closed`)
    })
  }

  async serve(method: string, onRequest: (delivery: Delivery) => void): Promise<Closable> {
    const server = new Server(this.ctx, method, `${this.address}.${++this.#next}`, onRequest)
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

  async dispatch(method: string, data: Uint8Array): Promise<void> {
    const keys = methodKeys(this.ctx.config.prefix, method)
    const id = await redisCall(`dispatching '${method}'`, () =>
      withScripts(corked(this.ctx.cmd)).unipcDispatch(keys.stream, keys.servers, toBuffer(data)),
    )
    if (id === null) throw new NoHandlerError(method)
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
  readonly keys: MethodKeys
  /** Entry ids handed to the handler and not yet acknowledged. */
  readonly inFlight = new Set<string>()
  #blocker: Client | undefined
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #offReconnect: (() => void) | undefined
  #loop: Promise<void> | undefined

  constructor(
    private readonly ctx: RedisContext,
    readonly method: string,
    readonly consumer: string,
    private readonly onRequest: (d: Delivery) => void,
  ) {
    this.keys = methodKeys(ctx.config.prefix, method)
  }

  async start(): Promise<void> {
    await redisCall(`serving '${this.method}'`, () => this.#register())
    this.#blocker = await this.ctx.blocking(`unipc:server:${this.method}:${this.consumer}`)
    this.#timer = setInterval(
      () => void this.#tick(),
      Math.max(50, Math.floor(this.ctx.config.workerTtl / 3)),
    )
    this.#timer.unref()
    this.#offReconnect = this.ctx.onReconnect(() => void this.#tick())
    this.#loop = this.#run()
    void this.#claim().catch(() => {})
  }

  #register(): Promise<number> {
    return withScripts(this.ctx.cmd).unipcRegister(
      this.keys.stream,
      this.keys.servers,
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

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const blocker = this.#blocker as Client
      try {
        const reply = (await untilClosed(blocker, this.#read(blocker, '>'))) as
          | [Buffer, StreamEntry[]][]
          | null
        if (!reply) continue
        for (const [, entries] of reply) for (const entry of entries) this.#deliver(entry, false)
      } catch (err) {
        if (this.#stopped) return
        this.ctx.logger.debug(`unipc: server of '${this.method}' lost its connection; resuming`, err)
        if (!(await readyToResume(blocker))) return
        await new Promise((r) => setTimeout(r, 50))
        // After a Redis restart the stream and group are gone: create them again.
        await this.#register().catch(() => {})
        await this.#recover().catch(() => {})
      }
    }
  }

  /** XREADGROUP of new entries (`>`) or of this consumer's own pending ones (`0`). */
  #read(client: Client, from: '>' | '0'): Promise<unknown> {
    return commandBuffer(client, 'XREADGROUP', [
      'GROUP',
      SERVER_GROUP,
      this.consumer,
      'COUNT',
      '64',
      ...(from === '>' ? ['BLOCK', '0'] : []),
      'STREAMS',
      this.keys.stream,
      from,
    ])
  }

  /**
   * After a lost connection the reply of a read may be lost while Redis already counted its entries
   * as ours: deliver our own pending entries that the handler does not have (acknowledgements were
   * sent before, on the same connection, so acknowledged entries are not read back).
   */
  async #recover(): Promise<void> {
    const reply = (await this.#read(this.ctx.cmd, '0')) as [Buffer, StreamEntry[]][] | null
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

  /**
   * Acknowledges an entry. The XACK rides in the same corked write as the reply that usually
   * precedes it, so answering costs no extra write; answered entries are trimmed each beat.
   */
  #ack(id: string): void {
    corked(this.ctx.cmd)
      .xack(this.keys.stream, SERVER_GROUP, id)
      .catch((err) => this.ctx.logger.debug(`unipc: acknowledging a '${this.method}' request failed`, err))
    if (this.#stopped && this.inFlight.size === 0) void this.#forget()
  }

  /** Stops serving: leaves the registry at once; the consumer goes once its requests are answered. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    this.#offReconnect?.()
    this.#blocker?.disconnect()
    await this.#loop
    await this.ctx.cmd.zrem(this.keys.servers, this.consumer).catch(() => {})
    if (this.inFlight.size === 0) await this.#forget()
  }

  async #forget(): Promise<void> {
    await this.ctx.cmd.xgroup('DELCONSUMER', this.keys.stream, SERVER_GROUP, this.consumer).catch(() => {})
  }
}
