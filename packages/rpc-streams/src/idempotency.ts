/**
 * A short-lived cache of unary replies by call id, so a request the transport delivers again (its
 * first server died before acknowledging, or a connection dropped) is answered from the cache
 * instead of running twice. A duplicate that arrives while the first run is still going shares it.
 * Entries cost one Map slot each and no extra promises for synchronous handlers: the cache sits on
 * every call's path.
 * @module
 */

/** Options of the reply cache. */
export interface IdempotencyOptions {
  /** How long a reply is kept after the call started, in ms. Default 60 000. */
  readonly windowMs?: number
  /** Most replies kept; the oldest go first. Default 10 000. */
  readonly maxEntries?: number
}

/** Default window: long enough for Redis to claim a dead consumer's pending entries and redeliver. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 60_000
/** Default size bound of the cache. */
export const DEFAULT_IDEMPOTENCY_MAX_ENTRIES = 10_000

const PENDING = 0
const VALUE = 1
const ERROR = 2

interface Entry {
  readonly id: string
  state: typeof PENDING | typeof VALUE | typeof ERROR
  /** The value, the error, or (while pending) the promise of the first run. */
  outcome: unknown
  /** Epoch ms after which the entry is dropped (Map order is start order, so the sweep stops early). */
  readonly expires: number
}

/** Replies by call id, kept for a window after the call started (and at least until it settles). */
export class ReplyCache {
  readonly #entries = new Map<string, Entry>()
  /**
   * Ids in start order, for the sweep. A Map iterated from its front after many deletions walks
   * over their holes, so the order is kept here: an array consumed from `#head`.
   */
  #order: Entry[] = []
  #head = 0
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
   * Runs `fn` for a new call id, or answers with the outcome (or the pending run) of the earlier one.
   * @param id - a call id unique per call (caller address and call number)
   * @param fn - the work; may return a value or a promise, or throw
   */
  run(id: string, fn: () => unknown): unknown {
    const now = Date.now()
    const known = this.#entries.get(id)
    if (known && (known.expires > now || known.state === PENDING)) {
      this.#hits++
      if (known.state === ERROR) throw known.outcome
      return known.outcome
    }
    this.#sweep(now)
    const entry: Entry = { id, state: VALUE, outcome: undefined, expires: now + this.#windowMs }
    this.#entries.set(id, entry)
    this.#order.push(entry)
    let result: unknown
    try {
      result = fn()
    } catch (err) {
      entry.state = ERROR
      entry.outcome = err
      throw err
    }
    if (result instanceof Promise) {
      entry.state = PENDING
      entry.outcome = result
      result.then(
        (v) => {
          entry.state = VALUE
          entry.outcome = v
        },
        (e) => {
          entry.state = ERROR
          entry.outcome = e
        },
      )
    } else entry.outcome = result
    return result
  }

  /** Drops expired entries from the front (oldest first) and the oldest beyond the size bound. */
  #sweep(now: number): void {
    const order = this.#order
    while (this.#head < order.length) {
      const entry = order[this.#head] as Entry
      const live = this.#entries.get(entry.id) === entry
      if (live && this.#entries.size < this.#maxEntries && (entry.expires > now || entry.state === PENDING))
        break
      if (live) this.#entries.delete(entry.id)
      this.#head++
    }
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      this.#order = order.slice(this.#head)
      this.#head = 0
    }
  }
}
