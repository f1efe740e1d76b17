/**
 * Multicast of one event stream to the rxjs subscribers of a subscription: what an rxjs Subject
 * does, minus its per-value closure and observer copies. Every delivered event passes through here
 * once per subscriber, so it is kept to a loop over an array that is replaced (never mutated) when
 * subscribers come and go, which keeps a subscriber leaving during delivery safe.
 * @module
 */
import type { Subscriber } from 'rxjs'

/** Delivers values to a changing set of subscribers; ends them all with `error` or `complete`. */
export class Fanout<T> {
  #subscribers: readonly Subscriber<T>[] = []
  #ended: { readonly error: unknown } | 'complete' | undefined

  /** Adds a subscriber (ended at once if the stream already ended); returns its removal. */
  add(subscriber: Subscriber<T>): () => void {
    const ended = this.#ended
    if (ended === 'complete') subscriber.complete()
    else if (ended) subscriber.error(ended.error)
    if (ended) return () => {}
    this.#subscribers = [...this.#subscribers, subscriber]
    return () => {
      this.#subscribers = this.#subscribers.filter((s) => s !== subscriber)
    }
  }

  /** Delivers one value to every current subscriber. */
  next(value: T): void {
    const subscribers = this.#subscribers
    for (let i = 0; i < subscribers.length; i++) (subscribers[i] as Subscriber<T>).next(value)
  }

  /** Ends every subscriber with an error. */
  error(err: unknown): void {
    this.#end({ error: err })
  }

  /** Completes every subscriber. */
  complete(): void {
    this.#end('complete')
  }

  #end(how: { readonly error: unknown } | 'complete'): void {
    if (this.#ended) return
    this.#ended = how
    const subscribers = this.#subscribers
    this.#subscribers = []
    for (const s of subscribers) {
      if (how === 'complete') s.complete()
      else s.error(how.error)
    }
  }
}
