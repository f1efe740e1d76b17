/**
 * The caller's table of direct requests not yet Done (see dispatcher.ts).
 * @module
 */
import { CallTable } from '@unipc/core/spi'
import type { Payload } from './link.js'

/** A request in flight: what to dispatch again or fail should its server refuse it or die. */
export interface InflightRequest {
  readonly method: string
  readonly data: Payload
  readonly address: string
}

/** An entry of the table; entries of requests Done are used again (one allocation less per call). */
class Entry implements InflightRequest {
  constructor(
    public method: string,
    public data: Payload,
    public address: string,
  ) {}
}

/** Entries kept for reuse at most (more than this many in flight are rare; those go to the GC). */
const MAX_SPARE = 1024
const NO_DATA = new Uint8Array(0)

/**
 * Requests sent directly and not yet Done, by delivery id: the core's {@link CallTable} (a ring
 * slot per id, no `Map` churn under pipelined load), with ids handed out here in increasing order.
 * Each request's data is kept until Done or Refused: a refused one is dispatched again. Parts keep
 * the application's body (as a socket keeps it until written); the call waits on this request, so
 * the body is still the caller's message.
 */
export class InflightTable {
  readonly #table = new CallTable<Entry>()
  #last = 0
  /** Entries of requests Done, for reuse: a stack of `#spareCount`. */
  readonly #spare: Entry[] = []
  #spareCount = 0

  /** Requests in flight. */
  get size(): number {
    return this.#table.size
  }

  /** Adds a request; returns its delivery id. */
  add(method: string, data: Payload, address: string): number {
    // 32-bit ids (the frame's field), never 0 (a free slot).
    const did = (this.#last + 1) >>> 0 || 1
    this.#last = did
    let entry: Entry
    if (this.#spareCount > 0) {
      entry = this.#spare[--this.#spareCount] as Entry
      entry.method = method
      entry.data = data
      entry.address = address
    } else entry = new Entry(method, data, address)
    this.#table.set(did, entry)
    return did
  }

  /** Takes request `did` out; returns it, or undefined when it is not in flight. */
  take(did: number): InflightRequest | undefined {
    const entry = did === 0 ? undefined : this.#table.get(did)
    if (entry) this.#table.delete(did)
    return entry
  }

  /** Forgets request `did` (it is Done); false when it was not in flight. */
  done(did: number): boolean {
    const entry = did === 0 ? undefined : this.#table.get(did)
    if (!entry) return false
    this.#table.delete(did)
    // Nobody else holds a Done entry (take() hands entries out and does not reuse them).
    entry.data = NO_DATA
    if (this.#spareCount < MAX_SPARE) this.#spare[this.#spareCount++] = entry
    return true
  }

  /** Takes out every request sent to `address`, oldest first. */
  takeAll(address: string): InflightRequest[] {
    const found: { did: number; entry: Entry }[] = []
    this.#table.forEach((entry, did) => {
      if (entry.address === address) found.push({ did, entry })
    })
    for (const { did } of found) this.#table.delete(did)
    // Ids go up from the oldest (wrapping at 2^32): order by distance below the newest.
    const newest = this.#last
    return found.sort((x, y) => ((newest - y.did) >>> 0) - ((newest - x.did) >>> 0)).map((f) => f.entry)
  }

  /** Forgets everything. */
  clear(): void {
    this.#table.clear()
  }
}
