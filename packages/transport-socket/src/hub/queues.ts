/**
 * Command queues in the hub: FIFO per queue, one consumer per message, at most `concurrency`
 * unacknowledged messages per consumer, round-robin between consumers. Messages held by a
 * consumer whose connection goes away return to the front of the queue, flagged `redelivered`;
 * a consumer that merely stops keeps what it holds (its worker finishes and acknowledges it).
 * It also introduces senders to workers: `workers` lists a queue's consumers with their direct
 * endpoints and keeps the sender informed of changes (`Crew`), so commands can then travel
 * sender → worker without the hub.
 * @module
 */
import { ProtocolError } from '@unipc/core/spi'
import type { WireValue } from '../wire/msgpack.js'
import { T } from '../wire/protocol.js'
import { ListFollowers } from './listings.js'
import { ownQueued, type Peer } from './peer.js'

/** A queued message. */
export interface QueuedMessage {
  readonly data: Uint8Array
  readonly redelivered: boolean
  /** The connection id of the sender (0: unknown, e.g. loaded from the state file). */
  readonly from?: number
}

interface Consumer {
  readonly peer: Peer
  readonly id: number
  readonly queue: string
  readonly concurrency: number
  /** Where the worker takes commands straight from senders, or null (hub path only). */
  readonly direct: string | null
  /** Unacknowledged deliveries by tag. */
  readonly held: Map<number, QueuedMessage>
}

interface Queue {
  items: QueuedMessage[]
  head: number
  /** Messages waiting (not delivered) per sender connection id. */
  readonly waiting: Map<number, number>
  consumers: Consumer[]
  next: number
}

/** All queues of one hub. */
export class QueueBroker {
  readonly #queues = new Map<string, Queue>()
  /** Consumers by peer id, then consumer id (numbers: an ack looks its consumer up without building a key). */
  readonly #consumers = new Map<number, Map<number, Consumer>>()
  /** Connections told about each queue's workers (they get `Crew` on every change). */
  readonly #followers = new ListFollowers()
  #nextTag = 1
  /** Messages queued in the hub since start (commands sent straight to workers never reach it). */
  queued = 0

  /** Called after every change that a state snapshot should capture. */
  onChange: () => void = () => {}

  /** Appends a message and delivers what can be delivered. */
  push(queue: string, data: Uint8Array, redelivered = false, from = 0): void {
    const q = this.#queue(queue)
    q.items.push({ data: ownQueued(data), redelivered, from })
    if (from !== 0) count(q, from, 1)
    this.queued++
    this.onChange()
    this.#pump(queue)
  }

  /** Registers a consumer of `queue` for a peer. */
  consume(peer: Peer, id: number, queue: string, concurrency: number, direct: string | null = null): void {
    if (this.#consumer(peer, id)) this.unconsume(peer, id)
    const c: Consumer = { peer, id, queue, concurrency: Math.max(1, concurrency), direct, held: new Map() }
    let mine = this.#consumers.get(peer.id)
    if (!mine) {
      mine = new Map()
      this.#consumers.set(peer.id, mine)
    }
    mine.set(id, c)
    this.#queue(queue).consumers.push(c)
    this.#notify(queue)
    this.#pump(queue)
  }

  /**
   * The consumers of `queue` as a flat `[address, directUrl|nil, consumerId, concurrency, …]` list;
   * `peer` then gets `[Crew, queue, list]` whenever it changes, until it disconnects.
   */
  workers(peer: Peer, queue: string): WireValue[] {
    this.#followers.follow(peer, queue)
    return this.#crew(queue)
  }

  #crew(queue: string): WireValue[] {
    const flat: WireValue[] = []
    for (const c of this.#queues.get(queue)?.consumers ?? [])
      flat.push(c.peer.address, c.direct, c.id, c.concurrency)
    return flat
  }

  #notify(queue: string): void {
    this.#followers.tell(queue, () => [T.Crew, queue, this.#crew(queue)])
  }

  /**
   * Stops a consumer taking messages. What it holds stays held until acknowledged (its worker is
   * finishing those commands) or until its connection goes away (then they are redelivered).
   */
  unconsume(peer: Peer, id: number): void {
    const c = this.#consumer(peer, id)
    if (!c) return
    const q = this.#queue(c.queue)
    q.consumers = q.consumers.filter((x) => x !== c)
    if (c.held.size === 0) this.#forget(c)
    this.#notify(c.queue)
  }

  /** Acknowledges a delivery: the message is gone for good. */
  ack(peer: Peer, id: number, tag: number): void {
    const c = this.#consumer(peer, id)
    if (!c?.held.delete(tag)) return
    if (c.held.size === 0 && !this.#queue(c.queue).consumers.includes(c)) this.#forget(c)
    this.onChange()
    this.#pump(c.queue)
  }

  /**
   * Acknowledges several deliveries of one consumer (`fields[from…]` are their tags): one state
   * change and one pump for the lot.
   * @throws ProtocolError when a tag is not an integer
   */
  ackMany(peer: Peer, id: number, fields: readonly WireValue[], from: number): void {
    const c = this.#consumer(peer, id)
    let n = 0
    for (let i = from; i < fields.length; i++) {
      const tag = fields[i]
      if (typeof tag !== 'number') throw new ProtocolError(`field ${i} of an Acks frame must be an integer`)
      if (c?.held.delete(tag)) n++
    }
    if (!c || n === 0) return
    if (c.held.size === 0 && !this.#queue(c.queue).consumers.includes(c)) this.#forget(c)
    this.onChange()
    this.#pump(c.queue)
  }

  /**
   * Gives a delivery back untouched (the client's consumer had stopped before it arrived): it goes
   * to the front of the queue with its flag unchanged.
   */
  release(peer: Peer, id: number, tag: number): void {
    const c = this.#consumer(peer, id)
    const m = c?.held.get(tag)
    if (!c || !m) return
    c.held.delete(tag)
    if (c.held.size === 0 && !this.#queue(c.queue).consumers.includes(c)) this.#forget(c)
    const q = this.#queue(c.queue)
    q.items.splice(q.head, 0, m)
    if (m.from) count(q, m.from, 1)
    this.#pump(c.queue)
  }

  /** Removes every consumer of a peer (its connection closed); what they held is redelivered. */
  dropPeer(peer: Peer): void {
    this.#followers.drop(peer)
    const mine = this.#consumers.get(peer.id)
    if (!mine) return
    this.#consumers.delete(peer.id)
    for (const c of mine.values()) {
      const q = this.#queue(c.queue)
      q.consumers = q.consumers.filter((x) => x !== c)
      if (c.held.size > 0) {
        const back = [...c.held.values()].map((m) => ({ data: m.data, redelivered: true, from: m.from }))
        c.held.clear()
        q.items.splice(q.head, 0, ...back)
        for (const m of back) if (m.from) count(q, m.from, 1)
        this.onChange()
      }
      this.#notify(c.queue)
      this.#pump(c.queue)
    }
  }

  /** Every message not yet acknowledged, per queue (held ones first, as they would be redelivered). */
  snapshot(): Map<string, QueuedMessage[]> {
    const out = new Map<string, QueuedMessage[]>()
    for (const [name, q] of this.#queues) {
      const held: QueuedMessage[] = []
      for (const mine of this.#consumers.values())
        for (const c of mine.values())
          if (c.queue === name)
            for (const m of c.held.values()) held.push({ data: m.data, redelivered: true })
      const items = [...held, ...q.items.slice(q.head)]
      if (items.length > 0) out.set(name, items)
    }
    return out
  }

  /** Messages of a queue that `peer` sent and that wait for a worker (not delivered yet). */
  backlog(queue: string, peer: Peer): number {
    return this.#queues.get(queue)?.waiting.get(peer.id) ?? 0
  }

  /** Number of messages waiting (not delivered) in a queue. */
  depth(queue: string): number {
    const q = this.#queues.get(queue)
    return q ? q.items.length - q.head : 0
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name)
    if (!q) {
      q = { items: [], head: 0, waiting: new Map(), consumers: [], next: 0 }
      this.#queues.set(name, q)
    }
    return q
  }

  #pump(name: string): void {
    const q = this.#queue(name)
    while (q.head < q.items.length) {
      const c = this.#pick(q)
      if (!c) break
      const m = q.items[q.head] as QueuedMessage
      q.items[q.head++] = undefined as unknown as QueuedMessage
      if (m.from) count(q, m.from, -1)
      const tag = this.#nextTag++
      c.held.set(tag, m)
      c.peer.send([T.Deliver, c.id, tag, m.redelivered, m.data])
    }
    // Compact the array once the consumed prefix dominates, so a long-lived queue does not leak.
    if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head)
      q.head = 0
    } else if (q.head === q.items.length && q.head > 0) {
      q.items = []
      q.head = 0
    }
    if (q.items.length === 0 && q.consumers.length === 0 && !this.#holds(name)) this.#queues.delete(name)
  }

  #holds(queue: string): boolean {
    for (const mine of this.#consumers.values())
      for (const c of mine.values()) if (c.queue === queue && c.held.size > 0) return true
    return false
  }

  #consumer(peer: Peer, id: number): Consumer | undefined {
    return this.#consumers.get(peer.id)?.get(id)
  }

  #forget(c: Consumer): void {
    const mine = this.#consumers.get(c.peer.id)
    if (mine?.get(c.id) !== c) return
    mine.delete(c.id)
    if (mine.size === 0) this.#consumers.delete(c.peer.id)
  }

  #pick(q: Queue): Consumer | undefined {
    const n = q.consumers.length
    for (let i = 0; i < n; i++) {
      const c = q.consumers[(q.next + i) % n] as Consumer
      if (c.held.size < c.concurrency) {
        q.next = (q.next + i + 1) % n
        return c
      }
    }
    return undefined
  }
}

/** Adds `n` to the messages of sender `from` waiting in `q`. */
function count(q: Queue, from: number, n: number): void {
  const v = (q.waiting.get(from) ?? 0) + n
  if (v > 0) q.waiting.set(from, v)
  else q.waiting.delete(from)
}
