/**
 * A transport decorator the bus puts between its facilities and its transport. It keeps the
 * directory (services and queues this bus offers) and, while a monitor is present, describes the
 * traffic this bus sends as trace records. It reads the core's own frames (commands, requests,
 * replies), so the facilities need no tracing code and a transport sees the same calls as before.
 * @module
 */
import type { Codec } from '../codec.js'
import {
  decodeCommand,
  decodeInbox,
  decodeRequest,
  FrameKind,
  type ItemsScan,
  scanItems,
} from '../internal/frames.js'
import type { Logger } from '../logger.js'
import { joinParts } from '../parts.js'
import type { BytesOrParts, Closable, Delivery, MapChangeListener, Transport } from '../spi.js'
import { ALIVE_KEY } from '../status.js'
import { Directory } from './directory.js'
import { compactData, type TraceKind, type TraceRecord } from './trace.js'
import { Tracer } from './tracer.js'

/** A call sent while monitored, waiting for its reply to be traced. */
interface TracedCall {
  readonly kind: TraceKind
  readonly target: string
  readonly sent: number
  items: number
}

// Bounds memory when replies never come (timeouts): the oldest traced calls are forgotten.
const MAX_TRACED_CALLS = 1000

/** The decorated transport, with its lifecycle hooks for the bus. */
export class TracedTransport implements Transport {
  readonly tracer: Tracer
  readonly directory: Directory
  readonly #calls = new Map<number, TracedCall>()
  readonly #items: ItemsScan = { id: 0, count: 0, pos: 0 }
  readonly #online = new Set<string>()

  constructor(
    readonly inner: Transport,
    private readonly component: string | undefined,
    private readonly codec: Codec,
    logger: Logger,
  ) {
    this.tracer = new Tracer(inner, logger)
    this.directory = new Directory(inner, component, logger)
    this.messaging = this.#makeMessaging()
  }

  get name(): string {
    return this.inner.name
  }
  get supports(): Transport['supports'] {
    return this.inner.supports
  }
  get limits(): Transport['limits'] {
    return this.inner.limits
  }

  open(context: Parameters<Transport['open']>[0]): Promise<void> {
    return this.inner.open(context)
  }

  /** Starts watching for monitors and records this bus in the directory (after open). */
  async start(): Promise<void> {
    await Promise.all([this.tracer.start(), this.directory.start()])
  }

  async close(): Promise<void> {
    await this.tracer.stop()
    await this.directory.stop()
    await this.inner.close()
  }

  get #source(): string {
    return this.component ?? `@${this.inner.messaging.address}`
  }

  #emit(r: Omit<TraceRecord, 't' | 'src'> & { src?: string }): void {
    this.tracer.emit({ t: Date.now(), src: this.#source, ...r })
  }

  #payload(body: Uint8Array): Pick<TraceRecord, 'data' | 'truncated' | 'size'> {
    let value: unknown
    try {
      value = this.codec.decode(body)
    } catch {
      value = `<${body.length} bytes, not ${this.codec.name}>`
    }
    return compactData(value, body.length)
  }

  #remember(id: number, call: TracedCall): void {
    if (this.#calls.size >= MAX_TRACED_CALLS) {
      const oldest = this.#calls.keys().next().value
      if (oldest !== undefined) this.#calls.delete(oldest)
    }
    this.#calls.set(id, call)
  }

  /** Traces a reply-side frame for a call this bus sent while monitored. */
  #onReply(bytes: Uint8Array): void {
    // Several stream items in one frame: counted, like single Item frames (their bodies are not traced).
    if (scanItems(bytes, this.#items)) {
      const call = this.#calls.get(this.#items.id)
      if (call) call.items += this.#items.count
      return
    }
    let frame: ReturnType<typeof decodeInbox>
    try {
      frame = decodeInbox(bytes)
    } catch {
      return
    }
    const call = this.#calls.get(frame.id)
    if (!call) return
    const base = { kind: call.kind, src: call.target, dst: this.#source, id: frame.id }
    switch (frame.kind) {
      case FrameKind.Item:
        call.items++
        return
      case FrameKind.Result:
        this.#emit({ ...base, ...this.#payload(frame.body), ms: Date.now() - call.sent })
        break
      case FrameKind.End:
        this.#emit({ ...base, data: `<${call.items} items>`, ms: Date.now() - call.sent })
        break
      case FrameKind.Error:
        this.#emit({
          ...base,
          error: `${frame.error.name}: ${frame.error.message}`,
          ms: Date.now() - call.sent,
        })
        break
      default:
        return
    }
    this.#calls.delete(frame.id)
  }

  #traceMapWrite(map: string, entries: Iterable<[string, Uint8Array | undefined]>): void {
    const slash = map.indexOf('/')
    const facility = map.slice(0, slash)
    if (facility !== 'settings' && facility !== 'status') return
    const component = map.slice(slash + 1)
    for (const [key, value] of entries) {
      if (facility === 'settings') {
        this.#emit({
          kind: 'setting',
          dst: component,
          key,
          ...(value ? this.#payload(value) : { data: '<deleted>' }),
        })
      } else if (key !== ALIVE_KEY) {
        this.#emit({
          kind: 'status',
          dst: component,
          key,
          ...(value ? this.#payload(value) : { data: '<cleared>' }),
        })
      } else if (!value || !this.#online.has(map)) {
        // Heartbeats are not traffic worth showing; coming online and going offline are.
        if (value) this.#online.add(map)
        else this.#online.delete(map)
        this.#emit({ kind: 'status', dst: component, key, data: value ? 'online' : 'offline' })
      }
    }
  }

  readonly queues: Transport['queues'] = {
    push: (queue: string, data: Uint8Array): Promise<void> => {
      if (this.tracer.active) {
        try {
          const f = decodeCommand(data)
          this.#emit({ kind: 'command', dst: queue, id: f.id, ...this.#payload(f.body) })
          if (f.replyTo) this.#remember(f.id, { kind: 'reply', target: queue, sent: Date.now(), items: 0 })
        } catch {
          // Not a core frame: nothing to describe.
        }
      }
      return this.inner.queues.push(queue, data)
    },
    consume: async (queue, onDelivery, options): Promise<Closable> => {
      const handle = await this.inner.queues.consume(queue, onDelivery, options)
      return this.#listed('queue', queue, handle)
    },
  }

  readonly maps: Transport['maps'] = {
    get: (map, key) => this.inner.maps.get(map, key),
    getAll: (map) => this.inner.maps.getAll(map),
    set: (map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> => {
      if (this.tracer.active) this.#traceMapWrite(map, entries)
      return this.inner.maps.set(map, entries)
    },
    delete: (map: string, keys: readonly string[]): Promise<void> => {
      if (this.tracer.active)
        this.#traceMapWrite(
          map,
          keys.map((k) => [k, undefined]),
        )
      return this.inner.maps.delete(map, keys)
    },
    watch: (map: string, onChange: MapChangeListener) => this.inner.maps.watch(map, onChange),
  }

  readonly pubsub: Transport['pubsub'] = {
    publish: (channel: string, data: Uint8Array) => {
      if (this.tracer.active && !channel.startsWith('$'))
        this.#emit({ kind: 'event', dst: channel, ...this.#payload(data) })
      return this.inner.pubsub.publish(channel, data)
    },
    subscribe: (pattern, onMessage) => this.inner.pubsub.subscribe(pattern, onMessage),
  }

  readonly messaging: Transport['messaging']

  #makeMessaging(): Transport['messaging'] {
    const inner = this.inner.messaging
    return {
      // The address of some transports is known only after open, so read it each time.
      get address(): string {
        return inner.address
      },
      onMessage: (handler: (data: Uint8Array) => void): void => {
        inner.onMessage((bytes) => {
          if (this.#calls.size > 0) this.#onReply(bytes)
          handler(bytes)
        })
      },
      send: (to: string, data: Uint8Array) => inner.send(to, data),
      serve: async (method: string, onRequest: (d: Delivery) => void): Promise<Closable> => {
        const handle = await inner.serve(method, onRequest)
        return this.#listed('service', method, handle)
      },
      dispatch: (method: string, data: BytesOrParts) => {
        if (this.tracer.active) {
          try {
            // A gathering transport gets a large request as parts (see Supports.gatherWrites).
            const f = decodeRequest(joinParts(data))
            this.#emit({ kind: 'request', dst: method, id: f.id, ...this.#payload(f.body) })
            this.#remember(f.id, { kind: 'response', target: method, sent: Date.now(), items: 0 })
          } catch {
            // Not a core frame: nothing to describe.
          }
        }
        return inner.dispatch(method, data as Uint8Array)
      },
    }
  }

  #listed(kind: 'service' | 'queue', name: string, handle: Closable): Closable {
    this.directory.add(kind, name)
    let closed = false
    return {
      close: async () => {
        if (!closed) {
          closed = true
          this.directory.remove(kind, name)
        }
        await handle.close()
      },
    }
  }
}
