/**
 * Command queues on Redis lists with at-least-once delivery. A worker moves commands from the
 * queue into its own processing list (BLMOVE, or a batch LMOVE script when more are waiting) and
 * removes each one (LREM) when it is acknowledged. Every worker refreshes a heartbeat key with a
 * TTL; any worker of the queue periodically returns the commands of workers whose heartbeat
 * expired to the queue head, flagged redelivered. Each stored item is one flag byte (`0` fresh,
 * `1` redelivered) followed by the core's command frame.
 * @module
 */
import type { Writable } from 'node:stream'
import type { Closable, ConsumeOptions, Delivery, QueueTransport } from '@unipc/core/spi'
import { type Client, endClient, readyToResume, untilClosed } from '../client.js'
import type { RedisContext } from '../context.js'
import { type Deferred, deferred } from '../deferred.js'
import { mapRejection, redisCall } from '../errors.js'
import { heartbeatKey, procKey, type QueueKeys, queueKeys } from './keys.js'
import { type ScriptClient, withScripts } from './scripts.js'

/** Flag byte of a command never delivered before ('0'); the reaper writes '1'. */
const FRESH = 0x30

/** The commands pushed to one queue in one turn: one RPUSH adds them all, in order. */
interface PushBatch {
  readonly items: Buffer[]
  readonly done: Deferred<void>
}

const noop = (): void => {}

/** The native queue facility. */
export class NativeQueues implements QueueTransport {
  readonly #workers = new Set<Worker>()
  #next = 0
  #pushes = new Map<string, PushBatch>()

  constructor(private readonly ctx: RedisContext) {}

  /** Appends the command at the end of the turn; the commands of one turn for one queue share one RPUSH. */
  push(queue: string, data: Uint8Array): Promise<void> {
    const item = Buffer.allocUnsafe(data.byteLength + 1)
    item[0] = FRESH
    item.set(data, 1)
    let batch = this.#pushes.get(queue)
    if (batch === undefined) {
      if (this.#pushes.size === 0) this.ctx.batch.schedule(this.#flushPushes)
      batch = { items: [], done: deferred<void>() }
      this.#pushes.set(queue, batch)
    }
    batch.items.push(item)
    return batch.done.promise
  }

  readonly #flushPushes = (): void => {
    const batches = this.#pushes
    this.#pushes = new Map()
    for (const [queue, b] of batches) {
      try {
        const { list } = queueKeys(this.ctx.config.prefix, queue)
        mapRejection(`push to queue '${queue}'`, this.ctx.cmd.rpush(list, ...b.items))
          .then(noop)
          .then(b.done.resolve, b.done.reject)
      } catch (err) {
        b.done.reject(err)
      }
    }
  }

  /** How many commands wait in the queue (not yet taken by a worker). */
  async depth(queue: string): Promise<number> {
    return redisCall(`reading the depth of '${queue}'`, () =>
      this.ctx.cmd.llen(queueKeys(this.ctx.config.prefix, queue).list),
    )
  }

  async consume(
    queue: string,
    onDelivery: (delivery: Delivery) => void,
    options: ConsumeOptions,
  ): Promise<Closable> {
    const worker = new Worker(this.ctx, queue, `${this.ctx.id}.${++this.#next}`, onDelivery, options)
    this.#workers.add(worker)
    try {
      await worker.start()
    } catch (err) {
      this.#workers.delete(worker)
      await worker.release()
      throw err
    }
    return {
      close: async () => {
        this.#workers.delete(worker)
        await worker.stop()
      },
    }
  }

  /** Returns every command still held by this transport's workers to its queue (transport close). */
  async releaseAll(): Promise<void> {
    const workers = [...this.#workers]
    this.#workers.clear()
    await Promise.allSettled(workers.map((w) => w.release()))
  }
}

/** One consumer of one queue, with its own blocking connection. */
class Worker {
  readonly keys: QueueKeys
  readonly proc: string
  readonly hb: string
  /** Items taken and not yet acknowledged (exact stored bytes, flag included). */
  readonly held = new Set<Buffer>()
  #blocker: Client | undefined
  #stopped = false
  #released = false
  #wake: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #offReconnect: (() => void) | undefined
  #loop: Promise<void> | undefined

  constructor(
    private readonly ctx: RedisContext,
    readonly queue: string,
    readonly id: string,
    private readonly onDelivery: (d: Delivery) => void,
    private readonly options: ConsumeOptions,
  ) {
    this.keys = queueKeys(ctx.config.prefix, queue)
    this.proc = procKey(this.keys, id)
    this.hb = heartbeatKey(this.keys, id)
  }

  get #scripts(): ScriptClient {
    return withScripts(this.ctx.cmd)
  }

  async start(): Promise<void> {
    await redisCall(`starting a worker on queue '${this.queue}'`, () => this.#beat())
    await this.#reap()
    this.#blocker = await this.ctx.blocking(`unipc:worker:${this.queue}:${this.id}`)
    const ttl = this.ctx.config.workerTtl
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(ttl / 3)))
    this.#timer.unref()
    this.#offReconnect = this.ctx.onReconnect(() => void this.#tick())
    this.#loop = this.#run()
  }

  /** Heartbeat: (re)registers the worker and refreshes its TTL key; survives a Redis restart. */
  async #beat(): Promise<void> {
    const ttl = this.ctx.config.workerTtl
    await Promise.all([
      this.ctx.cmd.sadd(this.keys.workers, this.id),
      this.ctx.cmd.set(this.hb, '1', 'PX', ttl),
    ])
  }

  #reapCount = 0
  async #tick(): Promise<void> {
    if (this.#released) return
    try {
      await this.#beat()
      // Reaping every other beat (≈ TTL / 1.5) is often enough: a dead worker's TTL has to run out first.
      if (++this.#reapCount % 2 === 0) await this.#reap()
    } catch (err) {
      this.ctx.logger.debug(`unipc: worker heartbeat on '${this.queue}' failed`, err)
    }
  }

  async #reap(): Promise<void> {
    const moved = await this.#scripts.unipcReap(this.keys.list, this.keys.workers, this.keys.base, '')
    if (moved > 0)
      this.ctx.logger.info(`unipc: returned ${moved} command(s) of dead workers to queue '${this.queue}'`)
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const room = this.options.concurrency - this.held.size
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
        this.#wake = undefined
        continue
      }
      const blocker = this.#blocker as Client
      try {
        // One round trip per cycle: take what waits (up to room - 1) and block for one more, in one write.
        const stream = (blocker as { stream?: Writable }).stream
        stream?.cork()
        const take =
          room > 1 ? withScripts(blocker).unipcTakeBuffer(this.keys.list, this.proc, room - 1) : undefined
        const block = blocker.blmoveBuffer(this.keys.list, this.proc, 'LEFT', 'RIGHT', 0)
        stream?.uncork()
        // Awaited below, unless the take fails first (the loop then recovers what the block may hold).
        block.catch(() => {})
        if (take) for (const item of await untilClosed(blocker, take)) this.#deliver(item)
        const one = await untilClosed(blocker, block)
        if (one) this.#deliver(one)
      } catch (err) {
        if (this.#stopped) return
        this.ctx.logger.debug(`unipc: worker on '${this.queue}' lost its connection; resuming`, err)
        if (!(await readyToResume(blocker))) return
        await new Promise((r) => setTimeout(r, 50))
        await this.#recover().catch(() => {})
      }
    }
  }

  /**
   * After a lost connection the reply of a take may be lost while Redis already moved the commands
   * into our processing list: deliver what is there and not held here, as redelivered. Pending
   * acknowledgements go first on the same connection, so acknowledged items are not read back.
   */
  async #recover(): Promise<void> {
    this.#flushAcks()
    const items = await this.ctx.cmd.lrangeBuffer(this.proc, 0, -1)
    const held = [...this.held]
    for (const item of items) {
      const i = held.findIndex((h) => h.equals(item))
      if (i >= 0) held.splice(i, 1)
      else this.#deliver(item, true)
    }
  }

  #deliver(item: Buffer, redelivered = false): void {
    this.held.add(item)
    let acked = false
    const delivery: Delivery = {
      data: item.subarray(1),
      redelivered: redelivered || item[0] === 0x31,
      ack: () => {
        if (acked) return
        acked = true
        if (!this.held.delete(item) || this.#released) return
        this.#ack(item)
        this.#wake?.()
      },
    }
    try {
      this.onDelivery(delivery)
    } catch (err) {
      this.ctx.logger.error(`unipc: command delivery on '${this.queue}' threw`, err)
    }
  }

  #acks: Buffer[] = []
  /**
   * Acknowledges in batches: the items acknowledged in one turn are removed by one command, written
   * after the results of the same turn.
   */
  #ack(item: Buffer): void {
    this.#acks.push(item)
    if (this.#acks.length > 1) return
    this.ctx.batch.schedule(() => {
      this.#flushAcks()
      if (this.#stopped && this.held.size === 0) void this.release()
    }, true)
  }

  #flushAcks(): void {
    const items = this.#acks
    if (items.length === 0) return
    this.#acks = []
    const done =
      items.length === 1
        ? this.ctx.cmd.lrem(this.proc, 1, items[0] as Buffer)
        : this.#scripts.unipcAck(this.proc, ...items)
    done.catch((err) => this.ctx.logger.warn(`unipc: acknowledging commands on '${this.queue}' failed`, err))
  }

  /** Stops taking commands; the worker's registration goes once the commands it holds are acknowledged. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#wake?.()
    if (this.#blocker) endClient(this.#blocker)
    await this.#loop
    if (this.held.size === 0) await this.release()
  }

  /** Returns unacknowledged commands to the queue head (flagged redelivered) and unregisters. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    this.#stopped = true
    this.#wake?.()
    clearInterval(this.#timer)
    this.#offReconnect?.()
    if (this.#blocker) endClient(this.#blocker)
    // Acknowledgements still waiting for their tick go first (same connection, so in order).
    this.#flushAcks()
    await this.#scripts
      .unipcReap(this.keys.list, this.keys.workers, this.keys.base, this.id)
      .catch((err) => this.ctx.logger.warn(`unipc: releasing worker on '${this.queue}' failed`, err))
  }
}
