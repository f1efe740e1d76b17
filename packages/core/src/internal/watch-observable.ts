/**
 * Turns a map watch into a cold UnipcObservable: each subscriber gets its own watch, released on
 * unsubscribe and on bus close; start-up errors reach the subscriber.
 * @module
 */
import { UnipcObservable } from '../observable.js'
import type { Closable } from '../spi.js'
import { type MapWatcher, watchMap } from './map-watch.js'
import type { Runtime } from './runtime.js'

/** Builds the observable; `makeWatcher` turns map events into emissions for one subscriber. */
export function mapObservable<T>(
  rt: Runtime,
  map: string,
  what: string,
  makeWatcher: (emit: (value: T) => void) => Omit<MapWatcher, 'error'> & { teardown?: () => void },
): UnipcObservable<T> {
  return new UnipcObservable<T>((subscriber) => {
    let handle: Closable | undefined
    let done = false
    const w = makeWatcher((v) => subscriber.next(v))
    const release = (): void => {
      done = true
      w.teardown?.()
      if (handle) void handle.close().catch(() => {})
    }
    try {
      rt.assertOpen(what)
    } catch (err) {
      subscriber.error(err)
      return
    }
    watchMap(rt, map, { ...w, error: (e) => subscriber.error(e) }).then(
      (h) => {
        if (done) void h.close().catch(() => {})
        else handle = rt.track(h)
      },
      (err) => subscriber.error(err),
    )
    const onClose = (): void => subscriber.complete()
    rt.closingSignal.addEventListener('abort', onClose, { once: true })
    return () => {
      rt.closingSignal.removeEventListener('abort', onClose)
      release()
    }
  })
}
