/**
 * The calls of one bus waiting for replies, by call id. Ids are handed out consecutively and calls
 * mostly finish in the order they started, in batches; a `Map` under that load grows and shrinks
 * its hash table every batch (profiles of a caller with 64 calls in flight showed it). Here a call
 * lives in the ring slot its id selects. A call still waiting when its slot comes round again (a
 * long stream, a slow server) makes the ring grow, and past {@link MAX_RING} slots it moves to an
 * overflow map, so nothing is ever lost, only slower.
 * @module
 */

const MIN_RING = 64
const MAX_RING = 4096

/** Values by positive integer id, for ids that mostly arrive in increasing order. */
export class CallTable<T> {
  #mask = MIN_RING - 1
  /** The id each slot holds (0: free). */
  #ids: number[] = new Array<number>(MIN_RING).fill(0)
  #values: (T | undefined)[] = new Array<T | undefined>(MIN_RING).fill(undefined)
  #count = 0
  /** Entries pushed out of a full ring (rare: more than MAX_RING newer ids while they waited). */
  readonly #overflow = new Map<number, T>()

  /** Entries in the table. */
  get size(): number {
    return this.#count + this.#overflow.size
  }

  /** The entry of `id`, if any. */
  get(id: number): T | undefined {
    const s = id & this.#mask
    return this.#ids[s] === id ? this.#values[s] : this.#overflow.get(id)
  }

  /** Sets the entry of `id` (a positive integer), replacing any entry it had. */
  set(id: number, value: T): void {
    let s = id & this.#mask
    if (this.#ids[s] === id) {
      this.#values[s] = value
      return
    }
    if (this.#overflow.has(id)) {
      this.#overflow.set(id, value)
      return
    }
    while (this.#ids[s] !== 0) {
      if (this.#mask + 1 >= MAX_RING) {
        // Keep the newer id in the ring; the long-waiting one moves aside.
        this.#overflow.set(this.#ids[s] as number, this.#values[s] as T)
        this.#count--
        break
      }
      this.#grow()
      s = id & this.#mask
    }
    this.#ids[s] = id
    this.#values[s] = value
    this.#count++
  }

  /** Removes the entry of `id`; true when there was one. */
  delete(id: number): boolean {
    const s = id & this.#mask
    if (this.#ids[s] === id) {
      this.#ids[s] = 0
      this.#values[s] = undefined
      this.#count--
      return true
    }
    return this.#overflow.delete(id)
  }

  /** Every entry, in no particular order (a snapshot: the table may change while it is used). */
  values(): T[] {
    const out: T[] = []
    for (let s = 0; s <= this.#mask; s++) if (this.#ids[s] !== 0) out.push(this.#values[s] as T)
    for (const v of this.#overflow.values()) out.push(v)
    return out
  }

  /** Calls `fn` with every entry and its id, in no particular order; `fn` must not change the table. */
  forEach(fn: (value: T, id: number) => void): void {
    for (let s = 0; s <= this.#mask; s++) {
      const id = this.#ids[s] as number
      if (id !== 0) fn(this.#values[s] as T, id)
    }
    for (const [id, v] of this.#overflow) fn(v, id)
  }

  /** Removes every entry. */
  clear(): void {
    this.#ids.fill(0)
    this.#values.fill(undefined)
    this.#count = 0
    this.#overflow.clear()
  }

  /** Doubles the ring, moving every entry to the slot its id selects in the larger ring. */
  #grow(): void {
    const ids = this.#ids
    const values = this.#values
    const size = (this.#mask + 1) * 2
    this.#mask = size - 1
    this.#ids = new Array<number>(size).fill(0)
    this.#values = new Array<T | undefined>(size).fill(undefined)
    for (let s = 0; s < ids.length; s++) {
      const id = ids[s] as number
      if (id === 0) continue
      // Entries of distinct slots keep distinct slots (their low bits differ), so none collide.
      const t = id & this.#mask
      this.#ids[t] = id
      this.#values[t] = values[s]
    }
  }
}
