/**
 * Events: live publish/subscribe with patterns (see {@link compilePattern} for the syntax).
 * Delivery is at-most-once: a subscriber sees events published after its subscription is ready.
 * @module
 */
import { Fanout } from './internal/fanout.js'
import type { Runtime } from './internal/runtime.js'
import { UnipcObservable } from './observable.js'
import { assertChannel, compilePattern } from './pattern.js'
import type { Closable } from './spi.js'

/** What `publish` returns when the transport accepted the event synchronously (shared: it is settled). */
const PUBLISHED: Promise<void> = Promise.resolve()

/** One event as a subscriber receives it. */
export interface EventMessage<T = unknown> {
  /** The concrete channel it was published on. */
  readonly channel: string
  /** The published data. */
  readonly data: T
}

/** Options of {@link Events.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription (it completes). */
  signal?: AbortSignal
}

/**
 * A live subscription: an Observable (and async iterable) of events that starts at once. Await
 * `ready` before relying on delivery of events published next. It ends when `close()` is called,
 * its signal aborts, the bus closes, or its last rxjs subscriber unsubscribes.
 */
export class EventSubscription<T = unknown> extends UnipcObservable<EventMessage<T>> implements Closable {
  /** Resolves once events published from now on will be delivered; rejects if subscribing failed. */
  readonly ready: Promise<void>
  readonly #close: () => Promise<void>

  /** @internal */
  constructor(fanout: Fanout<EventMessage<T>>, ready: Promise<void>, close: () => Promise<void>) {
    let subscribers = 0
    super((subscriber) => {
      subscribers++
      const remove = fanout.add(subscriber)
      return () => {
        remove()
        if (--subscribers === 0) void close()
      }
    })
    this.ready = ready
    this.#close = close
  }

  /** Stops the subscription; subscribers complete. Idempotent. */
  close(): Promise<void> {
    return this.#close()
  }
}

/** The events facility of a bus. */
export class Events {
  /** @internal */
  constructor(private readonly rt: Runtime) {}

  /** Publishes `data` on `channel` to every matching subscriber on every bus. */
  publish(channel: string, data?: unknown): Promise<void> {
    // Not async: a publisher in a tight loop pays for no promise when the transport returns none.
    try {
      this.rt.assertOpen('events.publish')
      assertChannel(channel)
      return this.rt.transport.pubsub.publish(channel, this.rt.encode(data)) ?? PUBLISHED
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Subscribes to channels matching `pattern` (`a.b`, `a.*`, `a.>`, `>`). The subscription starts
   * immediately; await `.ready` before publishing if you must not miss the first events.
   */
  subscribe<T = unknown>(pattern: string, options: SubscribeOptions = {}): EventSubscription<T> {
    const rt = this.rt
    rt.assertOpen('events.subscribe')
    const matches = compilePattern(pattern)
    const subject = new Fanout<EventMessage<T>>()
    let handle: Closable | undefined
    let closed = false
    let closing: Promise<void> | undefined
    const close = (): Promise<void> => {
      closing ??= (async () => {
        closed = true
        rt.closingSignal.removeEventListener('abort', onBusClose)
        options.signal?.removeEventListener('abort', onBusClose)
        subject.complete()
        await ready.catch(() => {})
        await handle?.close()
      })()
      return closing
    }
    const onBusClose = (): void => void close()
    const ready = rt.transport.pubsub
      .subscribe(pattern, (channel, bytes) => {
        if (closed || !matches(channel)) return
        let data: T
        try {
          data = rt.decode(bytes) as T
        } catch (err) {
          rt.options.logger.warn(`unipc: dropped an undecodable event on '${channel}'`, err)
          return
        }
        subject.next({ channel, data })
      })
      .then((h) => {
        handle = rt.track(h)
        if (closed) void handle.close()
      })
    ready.catch((err) => subject.error(err))
    rt.closingSignal.addEventListener('abort', onBusClose, { once: true })
    if (options.signal?.aborted) void close()
    else options.signal?.addEventListener('abort', onBusClose, { once: true })
    return new EventSubscription<T>(subject, ready, close)
  }
}
