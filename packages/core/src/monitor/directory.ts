/**
 * The directory: what buses are on the transport and what they offer, kept in two well-known maps so
 * that tools (`unipc status`, `unipc ls`) can list them on any transport.
 * - `$unipc/components`: one key per component that ever connected (value: when it last started).
 * - `$unipc/buses`: one key per open bus that has a component, serves methods or works on queues
 *   (value: {@link BusEntry}); removed when the bus closes.
 * A process that dies without closing leaves its bus entry behind; readers tell it apart by the
 * liveness of its component (see `Status`). Buses without a component cannot be told apart.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { Packr } from 'msgpackr'
import type { Logger } from '../logger.js'
import type { Transport } from '../spi.js'

/** The map of every component that ever connected. */
export const COMPONENTS_MAP = '$unipc/components'
/** The map of open buses and what each offers. */
export const BUSES_MAP = '$unipc/buses'

/** What the directory says about one open bus. */
export interface BusEntry {
  /** Key of the entry (random per bus). */
  readonly id: string
  /** The bus's component, if any. */
  readonly component?: string
  /** The bus's inbox address. */
  readonly address: string
  /** Process id and host of the bus. */
  readonly pid: number
  readonly host: string
  /** Epoch ms when the bus connected. */
  readonly since: number
  /** Methods it serves. */
  readonly services: readonly string[]
  /** Queues it works on (a component's own queue is its name). */
  readonly queues: readonly string[]
}

const packr = new Packr({ useRecords: false })

/** Keeps this bus's directory entry up to date. */
export class Directory {
  readonly id = randomBytes(6).toString('hex')
  readonly #services = new Map<string, number>()
  readonly #queues = new Map<string, number>()
  readonly #since = Date.now()
  #chain: Promise<void> = Promise.resolve()
  #scheduled = false
  #listed = false
  #stopped = false

  constructor(
    private readonly transport: Transport,
    private readonly component: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Records the component (if any) and this bus's entry. */
  async start(): Promise<void> {
    if (!this.component) return
    try {
      await this.transport.maps.set(
        COMPONENTS_MAP,
        new Map([[this.component, packr.pack({ since: this.#since })]]),
      )
    } catch (err) {
      this.logger.debug('unipc: cannot record the component in the directory', err)
    }
    this.#schedule()
    await this.#chain
  }

  /** Notes that this bus serves `method` (`service`) or works on `queue` (`queue`). */
  add(kind: 'service' | 'queue', name: string): void {
    const m = kind === 'service' ? this.#services : this.#queues
    m.set(name, (m.get(name) ?? 0) + 1)
    this.#schedule()
  }

  /** Undoes one {@link add}. */
  remove(kind: 'service' | 'queue', name: string): void {
    const m = kind === 'service' ? this.#services : this.#queues
    const n = (m.get(name) ?? 0) - 1
    if (n > 0) m.set(name, n)
    else m.delete(name)
    this.#schedule()
  }

  /** Removes this bus's entry (the bus is closing). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#chain = this.#chain.then(async () => {
      if (!this.#listed) return
      await this.transport.maps.delete(BUSES_MAP, [this.id]).catch(() => {})
    })
    await this.#chain
  }

  // Changes in one tick are coalesced into one write; writes are chained so they land in order.
  #schedule(): void {
    if (this.#scheduled || this.#stopped) return
    this.#scheduled = true
    this.#chain = this.#chain
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(async () => {
        this.#scheduled = false
        if (this.#stopped) return
        const wanted = !!this.component || this.#services.size > 0 || this.#queues.size > 0
        if (!wanted) {
          if (this.#listed) await this.transport.maps.delete(BUSES_MAP, [this.id])
          this.#listed = false
          return
        }
        const entry: BusEntry = {
          id: this.id,
          component: this.component,
          address: this.transport.messaging.address,
          pid: process.pid,
          host: hostname(),
          since: this.#since,
          services: [...this.#services.keys()].sort(),
          queues: [...this.#queues.keys()].sort(),
        }
        this.#listed = true
        await this.transport.maps.set(BUSES_MAP, new Map([[this.id, packr.pack(entry)]]))
      })
      .catch((err) => this.logger.debug('unipc: cannot update the directory', err))
  }
}

/**
 * Lists every component that ever connected to this transport, sorted.
 * @param transport - an open transport (`bus.transport`)
 */
export async function listComponents(transport: Transport): Promise<string[]> {
  return [...(await transport.maps.getAll(COMPONENTS_MAP)).keys()].sort()
}

/**
 * Lists the directory entries of open buses (and of processes that died without closing).
 * @param transport - an open transport (`bus.transport`)
 */
export async function listBuses(transport: Transport): Promise<BusEntry[]> {
  const out: BusEntry[] = []
  for (const [id, bytes] of await transport.maps.getAll(BUSES_MAP)) {
    try {
      const v = packr.unpack(bytes) as BusEntry
      if (typeof v === 'object' && v !== null && Array.isArray(v.services) && Array.isArray(v.queues))
        out.push({ ...v, id })
    } catch {
      // A malformed entry is skipped: the directory is advisory.
    }
  }
  return out.sort((a, b) => (a.component ?? '').localeCompare(b.component ?? '') || a.since - b.since)
}

/**
 * The number of commands waiting in `queue`, when the transport can tell (its optional
 * `queues.depth`), else undefined.
 * @param transport - an open transport (`bus.transport`)
 * @param queue - a queue name (a component, or `component.sub`)
 */
export async function queueDepth(transport: Transport, queue: string): Promise<number | undefined> {
  const depth = transport.queues.depth
  return depth ? depth.call(transport.queues, queue) : undefined
}
