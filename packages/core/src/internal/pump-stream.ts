/**
 * Sending a streaming handler's result to its caller under credit-based flow control.
 * @module
 */

import { isThenable } from './promises.js'
import { Observable } from './rx.js'
import type { CreditedSink } from './stream-sender.js'

/** Whether a handler's result is a stream (an Observable or an async iterable). */
export function isStreamLike(v: unknown): boolean {
  return v instanceof Observable || (typeof v === 'object' && v !== null && Symbol.asyncIterator in v)
}

/**
 * Sends a handler's stream result item by item, waiting for credit. Async and sync iterables are
 * pulled only when credit allows (true backpressure). An Observable cannot be paused, so items it
 * emits without credit are buffered until credit arrives.
 */
export async function pumpStream(result: unknown, signal: AbortSignal, out: CreditedSink): Promise<void> {
  if (result instanceof Observable) {
    const pending: unknown[] = []
    let complete = false
    let failure: { error: unknown } | undefined
    let wake: (() => void) | undefined
    const sub = result.subscribe({
      next: (v) => {
        if (pending.length === 0 && out.hasCredit()) out.send(v)
        else {
          pending.push(v)
          wake?.()
        }
      },
      error: (e) => {
        failure = { error: e }
        wake?.()
      },
      complete: () => {
        complete = true
        wake?.()
      },
    })
    const onAbort = (): void => wake?.()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        while (pending.length > 0 && !signal.aborted) {
          await out.waitCredit()
          if (signal.aborted) break
          out.send(pending.shift())
        }
        if (signal.aborted) return
        if (failure) throw failure.error
        if (complete && pending.length === 0) return
        await new Promise<void>((r) => {
          wake = r
          if (pending.length > 0 || signal.aborted || complete || failure) r()
        })
        wake = undefined
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      sub.unsubscribe()
    }
  }
  if (
    typeof result === 'object' &&
    result !== null &&
    (Symbol.asyncIterator in result || Symbol.iterator in result)
  ) {
    if (!(Symbol.asyncIterator in result)) {
      await pumpIterable(result as Iterable<unknown>, out)
      return
    }
    await pumpAsyncIterable(result as AsyncIterable<unknown>, out)
    return
  }
  // A plain value from a streaming method is a one-item stream.
  await out.waitCredit()
  if (!out.aborted) out.send(result)
}

/**
 * An async iterable is pulled only with credit in hand, so a producer never runs ahead of its
 * consumer by more than the item the sender may hold (a `for await` loop would pull the next item
 * before it waits for credit). Like `for await`, an iteration stopped early is closed with `return()`.
 */
async function pumpAsyncIterable(iterable: AsyncIterable<unknown>, out: CreditedSink): Promise<void> {
  const it = iterable[Symbol.asyncIterator]()
  // Ended by the iterator itself (done, or it threw): nothing to close.
  let ended = false
  try {
    for (;;) {
      if (!out.hasCredit()) await out.waitCredit()
      if (out.aborted) return
      let next: IteratorResult<unknown>
      try {
        next = await it.next()
      } catch (err) {
        ended = true
        throw err
      }
      if (next.done) {
        ended = true
        return
      }
      if (out.aborted) return
      out.send(next.value)
    }
  } finally {
    if (!ended) await it.return?.()
  }
}

/** Items a synchronous iterable may send in a row before the pump lets I/O run. */
const SYNC_BATCH = 256

/**
 * A synchronous iterable (an array, a generator) is pulled without a promise per item while
 * credit lasts; `for await` would cost two microtask turns per item. Every {@link SYNC_BATCH}
 * items the pump yields to the event loop, so a large credit window cannot starve other work.
 * Items that are promises are awaited, as `for await` would.
 */
async function pumpIterable(iterable: Iterable<unknown>, out: CreditedSink): Promise<void> {
  const it = iterable[Symbol.iterator]()
  let done = false
  try {
    for (let sent = 1; ; sent++) {
      if (!out.hasCredit()) await out.waitCredit()
      if (out.aborted) return
      const next = it.next()
      if (next.done) {
        done = true
        return
      }
      let item = next.value
      if (isThenable(item)) {
        item = await item
        if (out.aborted) return
      }
      out.send(item)
      if (sent % SYNC_BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  } finally {
    // Stopped early (cancelled, aborted, failed): let a generator run its finally blocks.
    if (!done) it.return?.()
  }
}
