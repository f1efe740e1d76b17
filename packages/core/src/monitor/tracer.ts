/**
 * The bus side of monitoring: watches the monitors map and, only while at least one monitor is
 * present, publishes trace records. With no monitor the only cost is one map watch per bus and a
 * boolean test per operation.
 * @module
 */
import { Packr } from 'msgpackr'
import type { Logger } from '../logger.js'
import type { Closable, Transport } from '../spi.js'
import { encodeTrace, MONITORS_MAP, type TraceRecord, traceChannel } from './trace.js'

/** How a monitor announces itself in {@link MONITORS_MAP}. */
export interface MonitorAnnouncement {
  /** Epoch ms of the announcement, by the monitor's clock. */
  readonly at: number
  /** Milliseconds after which the announcement is stale unless renewed. */
  readonly ttl: number
}

const packr = new Packr({ useRecords: false })

/** Encodes a monitor announcement. */
export function encodeAnnouncement(a: MonitorAnnouncement): Uint8Array {
  return packr.pack(a)
}

function decodeAnnouncement(bytes: Uint8Array): MonitorAnnouncement | undefined {
  try {
    const v = packr.unpack(bytes) as Partial<MonitorAnnouncement>
    if (typeof v?.at === 'number' && typeof v.ttl === 'number') return { at: v.at, ttl: v.ttl }
  } catch {
    // A malformed announcement counts as no monitor.
  }
  return undefined
}

/** Publishes trace records while a monitor is present. */
export class Tracer {
  /** Expiry (local epoch ms) of each announced monitor. */
  readonly #monitors = new Map<string, number>()
  #active = false
  #timer: NodeJS.Timeout | undefined
  #watch: Closable | undefined
  #stopped = false

  constructor(
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /** True while at least one monitor is present: only then do callers build records. */
  get active(): boolean {
    return this.#active
  }

  /** Starts watching for monitors; tracing problems are logged, never thrown. */
  async start(): Promise<void> {
    try {
      this.#watch = await this.transport.maps.watch(MONITORS_MAP, (key, value) =>
        this.#apply(key, value, true),
      )
      const all = await this.transport.maps.getAll(MONITORS_MAP)
      for (const [key, value] of all) if (!this.#monitors.has(key)) this.#apply(key, value, false)
    } catch (err) {
      this.logger.debug('unipc: cannot watch for monitors; this bus will not be traced', err)
    }
  }

  /** Stops watching; no records are published afterwards. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#active = false
    clearTimeout(this.#timer)
    await this.#watch?.close().catch(() => {})
  }

  /** Publishes a record when a monitor is present (fire-and-forget). */
  emit(record: TraceRecord): void {
    if (!this.#active) return
    try {
      const r = this.transport.pubsub.publish(traceChannel(record.kind), encodeTrace(record))
      if (r) r.catch((err) => this.logger.debug('unipc: trace publish failed', err))
    } catch (err) {
      this.logger.debug('unipc: trace publish failed', err)
    }
  }

  #apply(key: string, value: Uint8Array | undefined, fresh: boolean): void {
    if (this.#stopped) return
    const a = value && decodeAnnouncement(value)
    if (!a) this.#monitors.delete(key)
    // A fresh change is timed by our clock (no skew); a snapshot entry by the monitor's stamp.
    else this.#monitors.set(key, (fresh ? Date.now() : a.at) + a.ttl)
    this.#recompute()
  }

  #recompute(): void {
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const [key, expiry] of this.#monitors) {
      if (expiry <= now) this.#monitors.delete(key)
      else next = Math.min(next, expiry)
    }
    this.#active = this.#monitors.size > 0
    clearTimeout(this.#timer)
    if (Number.isFinite(next)) {
      this.#timer = setTimeout(() => this.#recompute(), next - now + 1)
      this.#timer.unref?.()
    }
  }
}
