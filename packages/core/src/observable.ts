/**
 * Observables that are also async-iterable. rxjs 7 Observables are not async-iterable, so every
 * stream unipc returns is a {@link UnipcObservable}: use `.subscribe()`/`.pipe()` or `for await`.
 * @module
 */
import type { Subscriber, TeardownLogic } from 'rxjs'
import { PullQueue } from './internal/pull-queue.js'
import { Observable } from './internal/rx.js'

/** Pulls values one at a time; the default subscribes and buffers until the consumer asks. */
export type IteratorFactory<T> = () => AsyncIterator<T>

/** An rxjs Observable that can also be consumed with `for await … of`. */
export class UnipcObservable<T> extends Observable<T> implements AsyncIterable<T> {
  readonly #iterate: IteratorFactory<T> | undefined

  /**
   * @param subscribe - the rxjs subscribe function
   * @param iterate - a pull-based iterator (used by request streams for flow control); by default
   *   iteration subscribes and buffers values until they are pulled
   */
  constructor(subscribe: (subscriber: Subscriber<T>) => TeardownLogic, iterate?: IteratorFactory<T>) {
    super(subscribe)
    this.#iterate = iterate
  }

  /** Iterates the values; breaking out of the loop unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.#iterate ? this.#iterate() : observableIterator(this)
  }
}

/**
 * Iterates any Observable, buffering values that arrive before they are pulled.
 * @param source - the Observable to iterate
 */
export function observableIterator<T>(source: Observable<T>): AsyncIterator<T> {
  const queue = new PullQueue<T>()
  const subscription = source.subscribe({
    next: (v) => queue.push(v),
    error: (e) => queue.fail(e),
    complete: () => queue.end(),
  })
  return {
    next: () => queue.next(),
    async return(): Promise<IteratorResult<T>> {
      subscription.unsubscribe()
      queue.end()
      return { value: undefined, done: true }
    },
  }
}
