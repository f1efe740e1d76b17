/**
 * `monitor()`: a live view of all traffic on a transport. The monitor announces itself in the
 * monitors map (renewing the announcement while it runs); every bus that sees an announcement
 * publishes trace records of what it sends; the monitor subscribes to them.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Bus } from '../bus.js'
import { Subject } from '../internal/rx.js'
import { UnipcObservable } from '../observable.js'
import { compilePattern } from '../pattern.js'
import type { Closable } from '../spi.js'
import { decodeTrace, MONITORS_MAP, TRACE_PREFIX, type TraceKind, type TraceRecord } from './trace.js'
import { encodeAnnouncement } from './tracer.js'

/** Options of {@link monitor}. */
export interface MonitorOptions {
  /**
   * Only records whose source or target matches this event pattern or lies below it: `camera`
   * shows traffic from and to `camera`, its `camera.*` methods and its `camera.>` events.
   */
  pattern?: string
  /** Only these kinds. */
  kinds?: readonly TraceKind[]
  /** Stops the monitor. */
  signal?: AbortSignal
  /** How long an announcement stays valid without renewal, in ms (default 10 000). */
  ttl?: number
}

/**
 * A running monitor: an Observable (and async iterable) of trace records. Await `ready` before
 * producing the traffic you want to see; `close()` withdraws the announcement.
 */
export class Monitor extends UnipcObservable<TraceRecord> implements Closable {
  /** Resolves once the monitor is subscribed and announced. */
  readonly ready: Promise<void>
  readonly #close: () => Promise<void>

  /** @internal Use {@link monitor}. */
  constructor(subject: Subject<TraceRecord>, ready: Promise<void>, close: () => Promise<void>) {
    super((subscriber) => {
      const sub = subject.subscribe(subscriber)
      return () => sub.unsubscribe()
    })
    this.ready = ready
    this.#close = close
  }

  /** Stops monitoring; subscribers complete. Idempotent. */
  close(): Promise<void> {
    return this.#close()
  }
}

/**
 * Starts monitoring every bus on `bus`'s transport. Buses publish trace records only while some
 * monitor is announced, so monitoring costs nothing when nobody watches.
 * @param bus - an open bus (it needs no component)
 * @param options - a pattern and kinds to filter by, an AbortSignal, the announcement ttl
 * @example
 * ```ts
 * const m = monitor(bus, { pattern: 'camera' })
 * await m.ready
 * for await (const r of m) console.log(r.kind, r.src, '->', r.dst, r.data)
 * ```
 */
export function monitor(bus: Bus, options: MonitorOptions = {}): Monitor {
  const transport = bus.transport
  const matches = options.pattern ? patternFilter(options.pattern) : undefined
  const kinds = options.kinds ? new Set(options.kinds) : undefined
  const ttl = Math.max(1000, options.ttl ?? 10_000)
  const id = randomBytes(6).toString('hex')
  const subject = new Subject<TraceRecord>()
  let subscription: Closable | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let closing: Promise<void> | undefined

  const announce = (): Promise<void> =>
    transport.maps.set(MONITORS_MAP, new Map([[id, encodeAnnouncement({ at: Date.now(), ttl })]]))

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true
      clearInterval(timer)
      options.signal?.removeEventListener('abort', onAbort)
      subject.complete()
      await ready.catch(() => {})
      await subscription?.close().catch(() => {})
      if (bus.state !== 'closed') await transport.maps.delete(MONITORS_MAP, [id]).catch(() => {})
    })()
    return closing
  }
  const onAbort = (): void => void close()

  const ready = (async () => {
    subscription = await transport.pubsub.subscribe(`${TRACE_PREFIX}.>`, (_channel, bytes) => {
      if (closed) return
      let record: TraceRecord
      try {
        record = decodeTrace(bytes)
      } catch {
        return
      }
      if (kinds && !kinds.has(record.kind)) return
      if (matches && !matches(record.src) && !matches(record.dst)) return
      subject.next(record)
    })
    await announce()
    timer = setInterval(() => void announce().catch(() => {}), Math.floor(ttl / 3))
    timer.unref()
  })()
  ready.catch((err) => subject.error(err))
  bus.state$.subscribe({ complete: () => void close() })
  if (options.signal?.aborted) void close()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  return new Monitor(subject, ready, close)
}

/** Matches a name against `pattern` or anything below it (`pattern.>`). */
function patternFilter(pattern: string): (name: string) => boolean {
  const exact = compilePattern(pattern)
  const below = pattern.endsWith('>') ? exact : compilePattern(`${pattern}.>`)
  return (name) => exact(name) || below(name)
}
