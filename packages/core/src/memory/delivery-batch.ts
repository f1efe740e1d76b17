/**
 * The memory world's deliveries (inbox messages, events, dispatched requests) in one FIFO, run by
 * one microtask per batch rather than one microtask (and one closure) per message: a stream or a
 * busy publisher enqueues hundreds of messages in a row, and Node's per-microtask bookkeeping cost
 * about a sixth of an in-process stream item. Order is kept (one queue for all of them, as the
 * microtask queue was), and nothing is delivered re-entrantly: messages enqueued while a batch
 * runs wait for the next microtask.
 * @module
 */

/** Delivers one message; `a`, `b` and `c` are what was enqueued with it. */
export type Deliver = (a: unknown, b: unknown, c: unknown) => void

/** A FIFO of deliveries drained by microtasks. */
export class DeliveryBatch {
  /** Flat entries of four: deliver, a, b, c (no object per message). */
  #pending: unknown[] = []
  /** The array the last batch ran from, emptied, to take the next batch. */
  #spare: unknown[] = []
  #scheduled = false

  /** Enqueues `deliver(a, b, c)` after every delivery enqueued before it. */
  add(deliver: Deliver, a: unknown, b: unknown, c: unknown): void {
    this.#pending.push(deliver, a, b, c)
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#run)
    }
  }

  readonly #run = (): void => {
    const batch = this.#pending
    this.#pending = this.#spare
    this.#scheduled = false
    for (let i = 0; i < batch.length; i += 4) {
      try {
        ;(batch[i] as Deliver)(batch[i + 1], batch[i + 2], batch[i + 3])
      } catch (err) {
        // A throwing receiver must not cost the others their messages; it still surfaces as an
        // uncaught error, as it did from a microtask of its own.
        queueMicrotask(() => {
          throw err
        })
      }
    }
    batch.length = 0
    this.#spare = batch
  }
}
