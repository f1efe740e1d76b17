/**
 * The requests a caller wrote on one direct link and the server has not reported `Done` yet, by
 * tag: the core's {@link CallTable} (tags are handed out consecutively and mostly finish in
 * batches, which makes a `Map` churn; the table keeps each in a ring slot its tag selects).
 * @module
 */

import { CallTable } from '@unipc/core/spi'
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

/** In-flight requests of one direct link, by tag (tags must be added in increasing order). */
export class InflightTable {
  readonly #table = new CallTable<InflightCall>()

  /** Records request `tag` (greater than every tag added before). */
  add(tag: number, method: string, data: Payload, settle: Settle | undefined): void {
    this.#table.set(tag, { method, data, settle })
  }

  /** Marks request `tag` finished: forgets it and settles its promise, if any. */
  finish(tag: number): void {
    this.take(tag)?.settle?.resolve()
  }

  /** Removes and returns request `tag`, if it is in flight. */
  take(tag: number): InflightCall | undefined {
    const call = tag === 0 ? undefined : this.#table.get(tag)
    if (call) this.#table.delete(tag)
    return call
  }

  /** Removes and returns every request with a tag above `last` (all when 0), in tag order. */
  takeAbove(last: number): InflightCall[] {
    const found: [number, InflightCall][] = []
    this.#table.forEach((call, tag) => {
      if (tag > last) found.push([tag, call])
    })
    for (const [tag] of found) this.#table.delete(tag)
    return found.sort((a, b) => a[0] - b[0]).map((f) => f[1])
  }
}
