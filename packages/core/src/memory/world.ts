/**
 * The shared state behind `memory:` buses with the same name: queues, maps, subscriptions, inboxes
 * and servers, all in this process. Deliveries are asynchronous (microtasks) so code written
 * against memory behaves as it will over a real transport: nothing is delivered re-entrantly.
 * Messages, events and requests share one FIFO drained a batch per microtask (see DeliveryBatch).
 * @module
 */
import { ConnectionError, NoHandlerError } from '../errors.js'
import { compilePattern } from '../pattern.js'
import type { Delivery, MapChangeListener, MessageListener } from '../spi.js'
import { DeliveryBatch } from './delivery-batch.js'

interface QueuedMessage {
  data: Uint8Array
  redelivered: boolean
}

/** One consumer of a queue, owned by one bus. */
export interface QueueConsumer {
  readonly owner: number
  readonly concurrency: number
  readonly onDelivery: (d: Delivery) => void
  /** Deliveries not yet acknowledged; requeued when the consumer's bus goes away without acking them. */
  readonly held: Set<QueuedMessage>
  /** Set once the consumer stopped taking messages; deliveries still in flight go back to the queue. */
  closed?: boolean
}

interface Queue {
  readonly items: QueuedMessage[]
  consumers: QueueConsumer[]
  next: number
}

interface Subscription {
  readonly owner: number
  readonly matches: (channel: string) => boolean
  readonly onMessage: MessageListener
}

/** One server of a method, owned by one bus. */
export interface Server {
  readonly owner: number
  readonly onRequest: (d: Delivery) => void
}

/** The state shared by every memory bus of one name. */
export class MemoryWorld {
  readonly #queues = new Map<string, Queue>()
  readonly #maps = new Map<string, Map<string, Uint8Array>>()
  readonly #watchers = new Map<string, Set<MapChangeListener>>()
  readonly #subscriptions = new Set<Subscription>()
  readonly #inboxes = new Map<string, (data: Uint8Array) => void>()
  readonly #servers = new Map<string, { list: Server[]; next: number }>()
  /** Inbox messages, events and dispatched requests, delivered in order, a batch per microtask. */
  readonly #deliveries = new DeliveryBatch()
  #nextOwner = 1

  /** A new bus identity in this world. */
  newOwner(): number {
    return this.#nextOwner++
  }

  // ---- queues ----

  push(queue: string, data: Uint8Array): void {
    this.#queue(queue).items.push({ data, redelivered: false })
    this.#pump(queue)
  }

  addConsumer(queue: string, consumer: QueueConsumer): void {
    this.#queue(queue).consumers.push(consumer)
    this.#pump(queue)
  }

  /**
   * Stops a consumer taking messages. What it holds stays held: a worker that stops gracefully
   * finishes and acknowledges its running commands, which must not run a second time elsewhere.
   */
  removeConsumer(queue: string, consumer: QueueConsumer): void {
    const q = this.#queue(queue)
    consumer.closed = true
    q.consumers = q.consumers.filter((c) => c !== consumer)
  }

  /** The consumer's bus is gone: what it held and did not acknowledge goes back to the front of the queue, flagged redelivered. */
  requeueHeld(queue: string, consumer: QueueConsumer): void {
    this.removeConsumer(queue, consumer)
    if (consumer.held.size === 0) return
    const held = [...consumer.held].map((m) => ({ data: m.data, redelivered: true }))
    consumer.held.clear()
    this.#queue(queue).items.unshift(...held)
    this.#pump(queue)
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
      const consumer = this.#pickConsumer(q)
      if (!consumer) return
      const message = q.items.shift() as QueuedMessage
      consumer.held.add(message)
      let acked = false
      const delivery: Delivery = {
        data: message.data,
        redelivered: message.redelivered,
        ack: () => {
          if (acked) return
          acked = true
          if (consumer.held.delete(message)) this.#pump(name)
        },
      }
      queueMicrotask(() => {
        if (!consumer.closed) {
          consumer.onDelivery(delivery)
          return
        }
        // The consumer stopped before it saw the message: give it back untouched to the next one.
        if (!consumer.held.delete(message)) return
        q.items.unshift(message)
        this.#pump(name)
      })
    }
  }

  #pickConsumer(q: Queue): QueueConsumer | undefined {
    for (let i = 0; i < q.consumers.length; i++) {
      const c = q.consumers[(q.next + i) % q.consumers.length] as QueueConsumer
      if (c.held.size < c.concurrency) {
        q.next = (q.next + i + 1) % q.consumers.length
        return c
      }
    }
    return undefined
  }

  // ---- maps ----

  getMap(map: string): Map<string, Uint8Array> {
    return this.#maps.get(map) ?? new Map()
  }

  setEntries(map: string, entries: ReadonlyMap<string, Uint8Array>): void {
    let m = this.#maps.get(map)
    if (!m) {
      m = new Map()
      this.#maps.set(map, m)
    }
    for (const [k, v] of entries) m.set(k, v)
    for (const [k, v] of entries) this.#notify(map, k, v)
  }

  deleteKeys(map: string, keys: readonly string[]): void {
    const m = this.#maps.get(map)
    if (!m) return
    for (const k of keys) if (m.delete(k)) this.#notify(map, k, undefined)
  }

  watch(map: string, listener: MapChangeListener): () => void {
    let set = this.#watchers.get(map)
    if (!set) {
      set = new Set()
      this.#watchers.set(map, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  #notify(map: string, key: string, value: Uint8Array | undefined): void {
    const set = this.#watchers.get(map)
    if (!set) return
    for (const listener of set) queueMicrotask(() => set.has(listener) && listener(key, value))
  }

  // ---- pub/sub ----

  publish(channel: string, data: Uint8Array): void {
    for (const s of this.#subscriptions) {
      if (s.matches(channel)) this.#deliveries.add(this.#toSubscription, s, channel, data)
    }
  }

  /** Delivers an event, unless its subscription ended since it was published. */
  readonly #toSubscription = (s: unknown, channel: unknown, data: unknown): void => {
    const sub = s as Subscription
    if (this.#subscriptions.has(sub)) sub.onMessage(channel as string, data as Uint8Array)
  }

  subscribe(owner: number, pattern: string, onMessage: MessageListener): () => void {
    const s: Subscription = { owner, matches: compilePattern(pattern), onMessage }
    this.#subscriptions.add(s)
    return () => this.#subscriptions.delete(s)
  }

  // ---- messaging ----

  openInbox(address: string, handler: (data: Uint8Array) => void): void {
    this.#inboxes.set(address, handler)
  }

  closeInbox(address: string): void {
    this.#inboxes.delete(address)
  }

  send(to: string, data: Uint8Array): void {
    const inbox = this.#inboxes.get(to)
    if (!inbox) throw new ConnectionError(`no bus at address ${to}: it has closed`)
    this.#deliveries.add(this.#toInbox, to, data, undefined)
  }

  /** Delivers an inbox message, unless the inbox closed since it was sent. */
  readonly #toInbox = (to: unknown, data: unknown): void => {
    this.#inboxes.get(to as string)?.(data as Uint8Array)
  }

  addServer(method: string, server: Server): void {
    let s = this.#servers.get(method)
    if (!s) {
      s = { list: [], next: 0 }
      this.#servers.set(method, s)
    }
    s.list.push(server)
  }

  removeServer(method: string, server: Server): void {
    const s = this.#servers.get(method)
    if (!s) return
    s.list = s.list.filter((x) => x !== server)
    if (s.list.length === 0) this.#servers.delete(method)
  }

  dispatch(method: string, data: Uint8Array): void {
    const s = this.#servers.get(method)
    if (!s || s.list.length === 0) throw new NoHandlerError(method)
    const server = s.list[s.next % s.list.length] as Server
    s.next = (s.next + 1) % s.list.length
    this.#deliveries.add(toServer, server, data, undefined)
  }
}

/** Hands a dispatched request to its server (memory requests need no acknowledgement). */
function toServer(server: unknown, data: unknown): void {
  ;(server as Server).onRequest({ data: data as Uint8Array, redelivered: false, ack: noop })
}

const noop = (): void => {}

const worlds = new Map<string, MemoryWorld>()

/** The world of a name, created on first use. */
export function memoryWorld(name: string): MemoryWorld {
  let w = worlds.get(name)
  if (!w) {
    w = new MemoryWorld()
    worlds.set(name, w)
  }
  return w
}
