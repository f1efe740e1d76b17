/**
 * Status: per-component state that its owner publishes (merged field by field) and anyone reads
 * and watches, with liveness. The owner's bus writes a heartbeat every `interval`; a component
 * whose heartbeat is older than `timeout` (or that closed its bus) reads as offline.
 * @module
 */
import { Packr } from 'msgpackr'
import { InvalidArgumentError } from './errors.js'
import type { Runtime } from './internal/runtime.js'
import { mapObservable } from './internal/watch-observable.js'
import { assertName } from './names.js'
import type { UnipcObservable } from './observable.js'

/** The key holding the heartbeat in a status map; status field names may not start with `$`. */
export const ALIVE_KEY = '$alive'

/** How liveness is kept. */
export interface LivenessOptions {
  /** Milliseconds between heartbeats (default 1000). */
  interval: number
  /** Milliseconds without a heartbeat after which a component reads as offline (default 3 × interval). */
  timeout: number
}

/** What `status.get` and `status.watch` report for a component. */
export interface StatusSnapshot<F extends Record<string, unknown> = Record<string, unknown>> {
  /** The component. */
  readonly component: string
  /** True while its heartbeat is fresh. */
  readonly online: boolean
  /** Its status fields, merged from every `update`. */
  readonly fields: Partial<F>
  /** Epoch ms of its last heartbeat as stamped by its own clock, if any was ever seen. */
  readonly lastSeen: number | undefined
}

/** The map name under which a component's status lives. */
export function statusMap(component: string): string {
  return `status/${component}`
}

interface Heartbeat {
  at: number
  ttl: number
}

// The heartbeat is core's own record, so it is always msgpack whatever the application codec.
const packr = new Packr({ useRecords: false })

function decodeHeartbeat(bytes: Uint8Array | undefined): Heartbeat | undefined {
  if (!bytes) return undefined
  try {
    const v = packr.unpack(bytes) as Partial<Heartbeat>
    if (typeof v?.at === 'number' && typeof v.ttl === 'number') return { at: v.at, ttl: v.ttl }
  } catch {
    // A malformed heartbeat reads as no heartbeat.
  }
  return undefined
}

/** The status facility of a bus. */
export class Status {
  #timer: NodeJS.Timeout | undefined

  /** @internal */
  constructor(
    private readonly rt: Runtime,
    private readonly liveness: LivenessOptions | false,
  ) {}

  /**
   * Publishes fields of this bus's own component, merged into its status.
   * @param fields - field names must not start with `$`
   */
  async update(fields: Record<string, unknown>): Promise<void> {
    const rt = this.rt
    rt.assertOpen('status.update')
    const component = rt.requireComponent('status.update')
    const entries = new Map<string, Uint8Array>()
    for (const [k, v] of Object.entries(fields)) {
      assertName('status field', k)
      if (k.startsWith('$'))
        throw new InvalidArgumentError(`status field '${k}': names starting with '$' are reserved`)
      entries.set(k, rt.encode(v))
    }
    if (entries.size > 0) await rt.transport.maps.set(statusMap(component), entries)
  }

  /** Removes fields from this bus's own component status. */
  async clear(...fields: string[]): Promise<void> {
    this.rt.assertOpen('status.clear')
    const component = this.rt.requireComponent('status.clear')
    await this.rt.transport.maps.delete(statusMap(component), fields)
  }

  /** Reads a component's status and liveness. */
  async get<F extends Record<string, unknown> = Record<string, unknown>>(
    component: string,
  ): Promise<StatusSnapshot<F>> {
    this.rt.assertOpen('status.get')
    assertName('component', component)
    const all = await this.rt.transport.maps.getAll(statusMap(component))
    const beat = decodeHeartbeat(all.get(ALIVE_KEY))
    return {
      component,
      online: beat !== undefined && Date.now() - beat.at <= beat.ttl,
      fields: this.#fields(all) as Partial<F>,
      lastSeen: beat?.at,
    }
  }

  /**
   * Watches a component's status: the current snapshot first, then one on every field change and
   * every liveness change (online ↔ offline). Offline is detected by the watcher's own timer, so a
   * component that dies silently reads as offline `timeout` ms after its last heartbeat arrived.
   */
  watch<F extends Record<string, unknown> = Record<string, unknown>>(
    component: string,
  ): UnipcObservable<StatusSnapshot<F>> {
    this.rt.assertOpen('status.watch')
    assertName('component', component)
    const rt = this.rt
    return mapObservable<StatusSnapshot<F>>(rt, statusMap(component), 'status.watch', (emit) => {
      const fields: Record<string, unknown> = {}
      let online = false
      let lastSeen: number | undefined
      let timer: NodeJS.Timeout | undefined
      const publish = (): void => emit({ component, online, fields: { ...fields } as Partial<F>, lastSeen })
      const expireIn = (ms: number): void => {
        clearTimeout(timer)
        timer = setTimeout(
          () => {
            if (!online) return
            online = false
            publish()
          },
          Math.max(0, ms),
        )
        timer.unref?.()
      }
      const onBeat = (beat: Heartbeat | undefined, fresh: boolean): boolean => {
        const was = online
        lastSeen = beat?.at ?? lastSeen
        if (!beat) {
          clearTimeout(timer)
          online = false
        } else if (fresh) {
          online = true
          expireIn(beat.ttl)
        } else {
          const left = beat.ttl - (Date.now() - beat.at)
          online = left >= 0
          if (online) expireIn(left)
        }
        return was !== online
      }
      return {
        snapshot: (all) => {
          Object.assign(fields, this.#fields(all))
          onBeat(decodeHeartbeat(all.get(ALIVE_KEY)), false)
          publish()
        },
        change: (key, value) => {
          if (key === ALIVE_KEY) {
            if (onBeat(decodeHeartbeat(value), true)) publish()
            return
          }
          if (value === undefined) delete fields[key]
          else fields[key] = rt.decode(value)
          publish()
        },
        teardown: () => clearTimeout(timer),
      }
    })
  }

  /** @internal Starts this bus's heartbeat (when it has a component and liveness is on). */
  async startHeartbeat(): Promise<void> {
    const component = this.rt.options.component
    if (!component || !this.liveness) return
    const { interval, timeout } = this.liveness
    const beat = (): Promise<void> =>
      this.rt.transport.maps.set(
        statusMap(component),
        new Map([[ALIVE_KEY, packr.pack({ at: Date.now(), ttl: timeout })]]),
      )
    await beat()
    this.#timer = setInterval(() => {
      beat().catch((err) => this.rt.options.logger.debug('unipc: heartbeat failed', err))
    }, interval)
    this.#timer.unref()
  }

  /** @internal Stops the heartbeat and marks the component offline at once. */
  async stopHeartbeat(): Promise<void> {
    if (!this.#timer) return
    clearInterval(this.#timer)
    this.#timer = undefined
    const component = this.rt.options.component as string
    await this.rt.transport.maps.delete(statusMap(component), [ALIVE_KEY]).catch(() => {})
  }

  #fields(all: Map<string, Uint8Array>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of all) if (k !== ALIVE_KEY) out[k] = this.rt.decode(v)
    return out
  }
}
