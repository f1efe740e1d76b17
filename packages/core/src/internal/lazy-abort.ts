/**
 * An AbortSignal created only when a handler reads `ctx.signal`. Most handlers never do, and an
 * AbortController plus its deadline timer per request is a measurable share of a round trip; an
 * abort that happens before anyone asked is remembered and applied when the signal is made.
 * @module
 */

/** A lazily created abort signal. */
export class LazyAbort {
  #controller: AbortController | undefined
  #reason: unknown
  #aborted = false
  readonly #onFirstUse: (() => void) | undefined

  /** @param onFirstUse - called once when the signal is first made (e.g. to arm a deadline timer) */
  constructor(onFirstUse?: () => void) {
    this.#onFirstUse = onFirstUse
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
      else this.#onFirstUse?.()
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
