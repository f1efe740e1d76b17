/**
 * A short-lived cache of unary replies by call id, so a request the transport delivers again (its
 * first server died before acknowledging, or a connection dropped) is answered from the cache
 * instead of running twice. A duplicate that arrives while the first run is still going shares it.
 * @module
 */

/** Options of the reply cache. */
export interface IdempotencyOptions {
  /** How long a reply is kept after it settled, in ms. Default 60 000. */
  readonly windowMs?: number
  /** Most replies kept; the oldest go first. Default 10 000. */
  readonly maxEntries?: number
}

/** Default window: long enough for Redis to claim a dead consumer's pending entries and redeliver. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 60_000
/** Default size bound of the cache. */
export const DEFAULT_IDEMPOTENCY_MAX_ENTRIES = 10_000

interface Entry {
  readonly result: Promise<unknown>
  /** Epoch ms after which the entry is dropped; Infinity while the call runs. */
  expires: number
}

/** Replies by call id, kept for a window after they settle. */
export class ReplyCache {
  readonly #entries = new Map<string, Entry>()
  readonly #windowMs: number
  readonly #maxEntries: number
  #hits = 0

  /** @param options - window and size bound */
  constructor(options: IdempotencyOptions = {}) {
    this.#windowMs = options.windowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS
    this.#maxEntries = options.maxEntries ?? DEFAULT_IDEMPOTENCY_MAX_ENTRIES
  }

  /** How many calls were answered from the cache (for tests and diagnostics). */
  get hits(): number {
    return this.#hits
  }

  /** Entries currently held. */
  get size(): number {
    return this.#entries.size
  }

  /**
   * Runs `fn` for a new call id, or returns the (possibly still pending) outcome of the earlier run.
   * @param id - a call id unique per call (caller address and call number)
   * @param fn - the work
   */
  run(id: string, fn: () => Promise<unknown>): Promise<unknown> {
    const now = Date.now()
    this.#sweep(now)
    const known = this.#entries.get(id)
    if (known && known.expires > now) {
      this.#hits++
      return known.result
    }
    const result = fn()
    const entry: Entry = { result, expires: Number.POSITIVE_INFINITY }
    this.#entries.set(id, entry)
    const settle = (): void => {
      entry.expires = Date.now() + this.#windowMs
      // Re-insert so Map order follows settle time and the sweep can stop at the first live entry.
      if (this.#entries.get(id) === entry) {
        this.#entries.delete(id)
        this.#entries.set(id, entry)
      }
    }
    result.then(settle, settle)
    return result
  }

  /** Drops expired entries from the front (oldest first) and the oldest beyond the size bound. */
  #sweep(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && entry.expires > now) break
      this.#entries.delete(id)
    }
  }
}
