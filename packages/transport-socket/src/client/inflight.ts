/**
 * The requests a caller wrote on one direct link and the server has not reported `Done` yet, by
 * tag. Tags are handed out consecutively and mostly finish in batches, which makes a `Map` churn
 * (it grows and shrinks its table every batch, ~10x the cost of this): here a request lives in a
 * ring slot chosen by its tag, in parallel arrays (no object per request). A request still open
 * when its slot comes round again (a long stream, a slow handler) makes the ring grow, and past
 * {@link MAX_RING} moves to an overflow map.
 * @module
 */

import type { Payload } from '../wire/parts.js'

/** A promise waiting for the request to be taken (only requests that were queued carry one). */
export interface Settle {
  resolve(): void
  reject(err: unknown): void
}

/** A request in flight, as handed back when it must be re-routed or failed. */
export interface InflightCall {
  readonly method: string
  readonly data: Payload
  readonly settle: Settle | undefined
}

const MIN_RING = 128
const MAX_RING = 4096

/** In-flight requests of one direct link, by tag (tags must be added in increasing order). */
export class InflightTable {
  #mask = MIN_RING - 1
  /** Tag held by each slot (0: free). */
  #tags: number[] = new Array<number>(MIN_RING).fill(0)
  #methods: string[] = new Array<string>(MIN_RING).fill('')
  #data: (Payload | undefined)[] = new Array<Payload | undefined>(MIN_RING).fill(undefined)
  #settles: (Settle | undefined)[] = new Array<Settle | undefined>(MIN_RING).fill(undefined)
  /** Requests evicted from a full ring (rare: more than MAX_RING tags passed while they ran). */
  readonly #overflow = new Map<number, InflightCall>()

  /** Records request `tag` (greater than every tag added before). */
  add(tag: number, method: string, data: Payload, settle: Settle | undefined): void {
    let s = tag & this.#mask
    while (this.#tags[s] !== 0) {
      if (this.#mask + 1 >= MAX_RING) {
        this.#overflow.set(this.#tags[s] as number, this.#takeSlot(s))
        break
      }
      this.#grow()
      s = tag & this.#mask
    }
    this.#tags[s] = tag
    this.#methods[s] = method
    this.#data[s] = data
    this.#settles[s] = settle
  }

  /** Marks request `tag` finished: forgets it and settles its promise, if any. */
  finish(tag: number): void {
    const s = tag & this.#mask
    if (this.#tags[s] === tag) {
      const settle = this.#settles[s]
      this.#clear(s)
      settle?.resolve()
      return
    }
    const call = this.#overflow.get(tag)
    if (!call) return
    this.#overflow.delete(tag)
    call.settle?.resolve()
  }

  /** Removes and returns request `tag`, if it is in flight. */
  take(tag: number): InflightCall | undefined {
    const s = tag & this.#mask
    if (this.#tags[s] === tag) return this.#takeSlot(s)
    const call = this.#overflow.get(tag)
    if (call) this.#overflow.delete(tag)
    return call
  }

  /** Removes and returns every request with a tag above `last` (all when 0), in tag order. */
  takeAbove(last: number): InflightCall[] {
    const found: [number, InflightCall][] = []
    for (let s = 0; s <= this.#mask; s++) {
      const tag = this.#tags[s] as number
      if (tag !== 0 && tag > last) found.push([tag, this.#takeSlot(s)])
    }
    for (const [tag, call] of this.#overflow) {
      if (tag <= last) continue
      this.#overflow.delete(tag)
      found.push([tag, call])
    }
    return found.sort((a, b) => a[0] - b[0]).map((f) => f[1])
  }

  #takeSlot(s: number): InflightCall {
    const call = {
      method: this.#methods[s] as string,
      data: this.#data[s] as Payload,
      settle: this.#settles[s],
    }
    this.#clear(s)
    return call
  }

  #clear(s: number): void {
    this.#tags[s] = 0
    this.#methods[s] = ''
    this.#data[s] = undefined
    this.#settles[s] = undefined
  }

  /** Doubles the ring; tags in it are distinct modulo the old size, so also modulo the new one. */
  #grow(): void {
    const size = (this.#mask + 1) * 2
    const tags = new Array<number>(size).fill(0)
    const methods = new Array<string>(size).fill('')
    const data = new Array<Payload | undefined>(size).fill(undefined)
    const settles = new Array<Settle | undefined>(size).fill(undefined)
    const mask = size - 1
    for (let s = 0; s <= this.#mask; s++) {
      const tag = this.#tags[s] as number
      if (tag === 0) continue
      const t = tag & mask
      tags[t] = tag
      methods[t] = this.#methods[s] as string
      data[t] = this.#data[s]
      settles[t] = this.#settles[s]
    }
    this.#mask = mask
    this.#tags = tags
    this.#methods = methods
    this.#data = data
    this.#settles = settles
  }
}
