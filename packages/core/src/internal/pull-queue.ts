/**
 * The buffer behind unipc's async iterators: values pushed by an Observable or a stream wait here
 * until the consumer pulls them. Several `next()` calls may wait at once (the async iterator
 * protocol allows it), and ending the iteration wakes them all, so no caller is left hanging.
 * @module
 */

/** Values waiting to be pulled, plus how the source ended. */
export class PullQueue<T> {
  readonly #buffer: T[] = []
  /** The weight of each buffered value (e.g. a stream item's bytes), handed to `onTake`. */
  readonly #weights: number[] = []
  readonly #waiters: (() => void)[] = []
  #done = false
  #failure: { error: unknown } | undefined

  /** A value arrived; `weight` is passed to the `onTake` of the pull that takes it. */
  push(value: T, weight = 0): void {
    this.#buffer.push(value)
    this.#weights.push(weight)
    this.#wake()
  }

  /** The source failed: pulls after the buffered values throw `error`. */
  fail(error: unknown): void {
    this.#failure ??= { error }
    this.#wake()
  }

  /** The source completed, or the consumer stopped: pulls after the buffered values are done. */
  end(): void {
    this.#done = true
    this.#wake()
  }

  /**
   * Resolves with the next value, waiting for one if needed.
   * @param onTake - called with the weight of each value handed out (e.g. to grant stream credit)
   */
  async next(onTake?: (weight: number) => void): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#buffer.length > 0) {
        const weight = this.#weights.shift() as number
        onTake?.(weight)
        return { value: this.#buffer.shift() as T, done: false }
      }
      if (this.#failure) throw this.#failure.error
      if (this.#done) return { value: undefined, done: true }
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake()
  }
}
