/**
 * The `memory:` transport: buses in one process that share a world by name (`memory:` is the
 * default world, `memory://tests-1` another). Full semantics; the reference implementation the
 * conformance suite runs on first.
 * @module
 */
import { ClosedError, InvalidArgumentError } from '../errors.js'
import type {
  Closable,
  ConsumeOptions,
  Delivery,
  MapChangeListener,
  MessageListener,
  OpenContext,
  Supports,
  Transport,
} from '../spi.js'
import { type MemoryWorld, memoryWorld, type QueueConsumer, type Server } from './world.js'

const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

/**
 * Builds a memory transport for `memory:` or `memory://<world>`; `?maxPayload=<bytes>` sets the limit.
 * @param url - the memory URL
 */
export function createMemoryTransport(url: URL): Transport {
  if (url.protocol !== 'memory:') throw new InvalidArgumentError(`not a memory URL: ${url.href}`)
  const name = url.hostname || url.pathname || 'default'
  const max = Number(url.searchParams.get('maxPayload') ?? DEFAULT_MAX_PAYLOAD)
  if (!Number.isSafeInteger(max) || max <= 0)
    throw new InvalidArgumentError(
      `maxPayload must be a positive integer, got ${url.searchParams.get('maxPayload')}`,
    )
  return new MemoryTransport(memoryWorld(name), max)
}

let addressCounter = 0

class MemoryTransport implements Transport {
  readonly name = 'memory'
  readonly supports: Supports = {
    redelivery: true,
    persistence: false,
    durableEvents: false,
    crossProcess: false,
  }
  readonly limits: { maxPayload: number }
  readonly owner: number
  readonly address = `mem:${process.pid}:${++addressCounter}`
  readonly #resources = new Set<() => void>()
  /** Every consumer this bus opened; on close, what they still hold is redelivered to others. */
  readonly #consumers = new Set<{ queue: string; consumer: QueueConsumer }>()
  #inbox: ((data: Uint8Array) => void) | undefined
  #open = false
  #closed = false

  constructor(
    readonly world: MemoryWorld,
    maxPayload: number,
  ) {
    this.limits = { maxPayload }
    this.owner = world.newOwner()
  }

  async open(_context: OpenContext): Promise<void> {
    if (this.#closed) throw new ClosedError('open')
    this.world.openInbox(this.address, (d) => this.#inbox?.(d))
    this.#open = true
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.world.closeInbox(this.address)
    for (const release of [...this.#resources]) release()
    this.#resources.clear()
    for (const { queue, consumer } of this.#consumers) this.world.requeueHeld(queue, consumer)
    this.#consumers.clear()
  }

  #assert(): void {
    if (this.#closed || !this.#open) throw new ClosedError('memory transport')
  }

  #hold(release: () => void): Closable {
    let done = false
    const once = (): void => {
      if (done) return
      done = true
      this.#resources.delete(once)
      release()
    }
    this.#resources.add(once)
    return { close: async () => once() }
  }

  readonly queues = {
    push: async (queue: string, data: Uint8Array): Promise<void> => {
      this.#assert()
      this.world.push(queue, data)
    },
    consume: async (
      queue: string,
      onDelivery: (d: Delivery) => void,
      options: ConsumeOptions,
    ): Promise<Closable> => {
      this.#assert()
      const consumer: QueueConsumer = {
        owner: this.owner,
        concurrency: options.concurrency,
        onDelivery,
        held: new Set(),
      }
      this.world.addConsumer(queue, consumer)
      this.#consumers.add({ queue, consumer })
      return this.#hold(() => this.world.removeConsumer(queue, consumer))
    },
  }

  readonly maps = {
    get: async (map: string, key: string): Promise<Uint8Array | undefined> => {
      this.#assert()
      return this.world.getMap(map).get(key)
    },
    getAll: async (map: string): Promise<Map<string, Uint8Array>> => {
      this.#assert()
      return new Map(this.world.getMap(map))
    },
    set: async (map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> => {
      this.#assert()
      this.world.setEntries(map, entries)
    },
    delete: async (map: string, keys: readonly string[]): Promise<void> => {
      this.#assert()
      this.world.deleteKeys(map, keys)
    },
    watch: async (map: string, onChange: MapChangeListener): Promise<Closable> => {
      this.#assert()
      return this.#hold(this.world.watch(map, onChange))
    },
  }

  readonly pubsub = {
    publish: (channel: string, data: Uint8Array): void => {
      this.#assert()
      this.world.publish(channel, data)
    },
    subscribe: async (pattern: string, onMessage: MessageListener): Promise<Closable> => {
      this.#assert()
      return this.#hold(this.world.subscribe(this.owner, pattern, onMessage))
    },
  }

  readonly messaging = {
    address: this.address,
    onMessage: (handler: (data: Uint8Array) => void): void => {
      this.#inbox = handler
    },
    send: (to: string, data: Uint8Array): void => {
      this.#assert()
      this.world.send(to, data)
    },
    serve: async (method: string, onRequest: (d: Delivery) => void): Promise<Closable> => {
      this.#assert()
      const server: Server = { owner: this.owner, onRequest }
      this.world.addServer(method, server)
      return this.#hold(() => this.world.removeServer(method, server))
    },
    dispatch: (method: string, data: Uint8Array): void => {
      this.#assert()
      this.world.dispatch(method, data)
    },
  }
}
