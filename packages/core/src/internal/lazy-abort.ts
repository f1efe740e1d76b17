/**
 * An AbortSignal created only when a handler reads `ctx.signal`. Most handlers never do, and an
 * AbortController plus its deadline timer per request is a measurable share of a round trip; an
 * abort that happens before anyone asked is remembered and applied when the signal is made.
 * @module
 */

/** Who wants to know when the signal is made (an object, not a closure: one fewer allocation per call). */
export interface AbortOwner {
  /** The signal was just made and has not aborted. */
  signalMade(): void
}

/** A lazily created abort signal. */
export class LazyAbort {
  #controller: AbortController | undefined
  #reason: unknown
  #aborted = false
  readonly #owner: AbortOwner | undefined

  /** @param owner - told once when the signal is first made (e.g. to arm a deadline timer) */
  constructor(owner?: AbortOwner) {
    this.#owner = owner
  }

  /** True once `abort()` was called, whether or not the signal exists. */
  get aborted(): boolean {
    return this.#aborted
  }

  /** True once somebody asked for the signal. */
  get used(): boolean {
    return this.#controller !== undefined
  }

  /** The signal, made on first access. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
      else this.#owner?.signalMade()
    }
    return this.#controller.signal
  }

  /** Aborts (first reason wins). */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}
