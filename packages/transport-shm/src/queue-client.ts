/**
 * The bus side of command queues (docs/protocol/shm.md, "Commands"): pushes acknowledged in bulk
 * and acknowledgements of deliveries sent in bulk, one frame per event-loop job each instead of
 * one per command. A broker that does not announce the bulk messages (`queues` below 2 in its
 * welcome) gets the per-command Push/Reply and Ack of before.
 * @module
 */
import type { Delivery } from '@unipc/core/spi'
import type { ShmLink } from './link.js'
import { FieldWriter, Op } from './wire.js'

/** The queue protocol this bus speaks when the broker announces it (welcome `queues`). */
export const QUEUE_PROTOCOL = 2

/** A push waiting for the broker's Pushed. */
interface PendingPush {
  readonly corr: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

/** Deliveries of one job to acknowledge on one link, by consumer id. */
interface AckBatch {
  readonly link: ShmLink
  readonly byConsumer: Map<number, number[]>
}

/** Pushes and acknowledgements of one bus, batched per job. */
export class QueueClient {
  /** Pushes not yet acknowledged, oldest first (the broker acknowledges in order). */
  #pushes: PendingPush[] = []
  #head = 0
  /** Acks staged this job, per link (one link in practice: the broker's). */
  readonly #acks = new Map<ShmLink, AckBatch>()
  #acksScheduled = false
  readonly #w = new FieldWriter()
  /** The last queue name written and its encoded field (most buses send to one queue). */
  #lastQueue = ''
  #lastQueueField: Buffer = Buffer.alloc(0)
  /** Pushes and acks use the bulk messages (the broker announced QUEUE_PROTOCOL). */
  bulk = false

  /**
   * Writes an Enqueue for `data` on `link` and returns a promise settled by the broker's Pushed
   * (or by {@link QueueClient.rejectAll} when the link goes).
   * @param corr - a number unique among this bus's outstanding operations
   */
  push(link: ShmLink, corr: number, queue: string, data: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pushes.push({ corr, resolve, reject })
      if (queue !== this.#lastQueue) {
        this.#lastQueue = queue
        this.#lastQueueField = Buffer.from(new FieldWriter().str(queue).view())
      }
      link.send(Op.Enqueue, this.#w.reset().u32(corr).raw(this.#lastQueueField), data)
    })
  }

  /** The broker queued every Enqueue up to and including `corr`. */
  pushed(corr: number): void {
    const list = this.#pushes
    while (this.#head < list.length) {
      const p = list[this.#head++] as PendingPush
      p.resolve()
      if (p.corr === corr) break
    }
    if (this.#head === list.length) {
      list.length = 0
      this.#head = 0
    } else if (this.#head > 1024) {
      this.#pushes = list.slice(this.#head)
      this.#head = 0
    }
  }

  /** Fails every push still waiting (the broker link went). */
  rejectAll(err: Error): void {
    const list = this.#pushes.slice(this.#head)
    this.#pushes = []
    this.#head = 0
    for (const p of list) p.reject(err)
  }

  /**
   * A Delivery from the broker on `link`, handed to `onDelivery`; its ack is sent once the job
   * ends, with the other acks of the job.
   */
  deliver(
    link: ShmLink,
    cid: number,
    did: number,
    redelivered: boolean,
    data: Uint8Array,
    onDelivery: (d: Delivery) => void,
  ): void {
    onDelivery(new CommandDelivery(this, link, cid, did, redelivered, data))
  }

  /** Stages an acknowledgement (see CommandDelivery.ack). */
  ack(link: ShmLink, cid: number, did: number): void {
    if (link.closed) return
    if (!this.bulk) {
      link.send(Op.Ack, this.#w.reset().u32(cid).u32(did))
      return
    }
    let batch = this.#acks.get(link)
    if (!batch) {
      batch = { link, byConsumer: new Map() }
      this.#acks.set(link, batch)
    }
    const dids = batch.byConsumer.get(cid)
    if (dids) dids.push(did)
    else batch.byConsumer.set(cid, [did])
    if (this.#acksScheduled) return
    this.#acksScheduled = true
    // After the job's microtasks: the replies the handlers sent are staged first.
    process.nextTick(() => this.#flushAcks())
  }

  #flushAcks(): void {
    this.#acksScheduled = false
    for (const { link, byConsumer } of this.#acks.values()) {
      if (link.closed) continue
      for (const [cid, dids] of byConsumer) {
        const w = this.#w.reset().u32(cid)
        for (const did of dids) w.u32(did)
        link.send(Op.Acks, w)
      }
    }
    this.#acks.clear()
  }
}

/** A command handed to a consumer: acknowledging it tells the broker (once, batched per job). */
class CommandDelivery implements Delivery {
  #acked = false

  constructor(
    private readonly client: QueueClient,
    private readonly link: ShmLink,
    private readonly cid: number,
    private readonly did: number,
    readonly redelivered: boolean,
    readonly data: Uint8Array,
  ) {}

  ack(): void {
    if (this.#acked) return
    this.#acked = true
    this.client.ack(this.link, this.cid, this.did)
  }
}
