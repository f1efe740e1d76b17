/**
 * Waiting for the single reply of a command or request: timeout, abort and bus close all settle
 * the promise exactly once and remove the call from the pending table.
 * @module
 */

import { deserializeError, TimeoutError } from '../errors.js'
import { type Expiring, type ExpiryList, now, wallAt } from './deadline-timers.js'
import { FrameKind, type ReplyFrame } from './frames.js'
import { isThenable } from './promises.js'
import { abortReason, type PendingCall, type Runtime } from './runtime.js'

/** How long to wait and what cancels the wait. */
export interface WaitOptions {
  /** Milliseconds; 0 or Infinity waits forever. */
  readonly timeout: number
  readonly signal: AbortSignal | undefined
  /** With {@link name}, names the operation in error messages: `request 'add'`, `command to 'q'`. */
  readonly noun: string
  /** The method or queue. The message is made only when an error needs it. */
  readonly name: string
  /** Called when the caller aborts (used to send a Cancel frame once the server is known). */
  readonly onAbort?: () => void
  /** Called with the server's address when an Accepted frame arrives. */
  readonly onAccepted?: (server: string) => void
  /** Turns the decoded result into the promise's value (a throw rejects the call with it). */
  readonly mapResult?: (value: unknown) => unknown
  /**
   * Turns a failure (remote error, timeout, abort…) into the promise's reason, or into a promise
   * the call's promise follows instead (a layer's fallback, e.g. another call).
   */
  readonly mapError?: MapError
}

/** A call's failure mapped to the reason it rejects with, or to a promise it follows instead. */
export type MapError = (err: Error) => Error | PromiseLike<unknown>

/** What settles the promise of a call: captured by one shared executor (no closure per call). */
let capturedResolve: (value: unknown) => void = () => {}
let capturedReject: (err: Error) => void = () => {}
const capture = (resolve: (value: unknown) => void, reject: (err: Error) => void): void => {
  capturedResolve = resolve
  capturedReject = reject
}

/**
 * One call waiting for its reply: a single object is the pending entry, the timeout list's entry
 * and the abort listener. Its settings are its own fields (no options object per call).
 */
class ReplyWait implements PendingCall, Expiring {
  expireAt = 0
  prevExpiring: Expiring | undefined = undefined
  nextExpiring: Expiring | undefined = undefined
  readonly #resolve = capturedResolve
  readonly #reject = capturedReject
  /** The timeout list the call is in (the common case), or undefined. */
  readonly #list: ExpiryList | undefined
  /** A Node timer, only when the bus's timeout lists are all taken (see DeadlineTimers). */
  #timer: NodeJS.Timeout | undefined

  /** Call from within {@link capture}'s promise: it takes the promise's settle functions. */
  constructor(
    private readonly rt: Runtime,
    private readonly id: number,
    private readonly timeout: number,
    private readonly signal: AbortSignal | undefined,
    private readonly noun: string,
    private readonly name: string,
    private readonly hooks: WaitOptions | undefined,
    private readonly mapResult: ((value: unknown) => unknown) | undefined,
    private readonly mapError: MapError | undefined,
    t: number,
  ) {
    rt.calls.set(id, this)
    if (timeout > 0 && Number.isFinite(timeout)) {
      this.#list = rt.deadlines.list(timeout)
      if (this.#list) this.#list.add(this, t)
      else this.#timer = setTimeout(() => this.expire(), timeout)
    }
    signal?.addEventListener('abort', this, { once: true })
  }

  onFrame(frame: ReplyFrame): void {
    switch (frame.kind) {
      case FrameKind.Result:
        this.#settle()
        this.#resolveWith(frame.body, 0)
        return
      case FrameKind.Error:
        this.fail(deserializeError(frame.error))
        return
      case FrameKind.Accepted:
        this.hooks?.onAccepted?.(frame.server)
        return
      default:
        this.rt.options.logger.debug(`unipc: unexpected frame kind ${frame.kind} for ${this.#what()}`)
    }
  }

  onResult(bytes: Uint8Array, start: number): void {
    this.#settle()
    this.#resolveWith(bytes, start)
  }

  /** Resolves with the body that runs from `start` to the end of `bytes`. */
  #resolveWith(bytes: Uint8Array, start: number): void {
    let value: unknown
    try {
      value = this.rt.decodeBodyAt(bytes, start)
      const map = this.mapResult
      if (map) value = map(value)
    } catch (err) {
      this.#reject(err as Error)
      return
    }
    this.#resolve(value)
  }

  fail(err: Error): void {
    this.#settle()
    const map = this.mapError
    if (!map) {
      this.#reject(err)
      return
    }
    const out = map(err)
    // A thenable is a fallback the promise follows.
    if (isThenable(out)) this.#resolve(out)
    else this.#reject(out)
  }

  /** The timeout passed. */
  expire(): void {
    this.fail(new TimeoutError(this.#what(), this.timeout))
  }

  /** The caller's signal fired (EventListener interface: no closure per call). */
  handleEvent(): void {
    this.fail(abortReason(this.signal as AbortSignal, this.#what()))
    this.hooks?.onAbort?.()
  }

  #what(): string {
    return `${this.noun} '${this.name}'`
  }

  #settle(): void {
    this.rt.calls.delete(this.id)
    if (this.#list) this.#list.remove(this)
    else if (this.#timer) clearTimeout(this.#timer)
    this.signal?.removeEventListener('abort', this)
  }
}

/**
 * Registers call `id` in the pending table and resolves with its decoded result.
 * Register before sending so a fast reply is never missed.
 * @param t - a {@link now} reading just taken (read here when not given)
 */
export function waitForReply(rt: Runtime, id: number, opts: WaitOptions, t = now()): Promise<unknown> {
  const p = new Promise(capture)
  new ReplyWait(
    rt,
    id,
    opts.timeout,
    opts.signal,
    opts.noun,
    opts.name,
    opts,
    opts.mapResult,
    opts.mapError,
    t,
  )
  return p
}

/**
 * {@link waitForReply} for a request without a signal (the common call): no options object.
 * @param t - a {@link now} reading just taken
 */
export function waitForRequest(
  rt: Runtime,
  id: number,
  timeout: number,
  method: string,
  mapResult: ((value: unknown) => unknown) | undefined,
  mapError: MapError | undefined,
  t: number,
): Promise<unknown> {
  const p = new Promise(capture)
  new ReplyWait(rt, id, timeout, undefined, 'request', method, undefined, mapResult, mapError, t)
  return p
}

/** Epoch-ms deadline for a timeout, or 0 for none; `t`: a {@link now} reading (read here when not given). */
export function deadlineFor(timeout: number, t?: number): number {
  return timeout > 0 && Number.isFinite(timeout) ? wallAt(t ?? now()) + timeout : 0
}

/** Fails call `id` (a no-op when it already settled). */
export function failCall(rt: Runtime, id: number, err: unknown): void {
  rt.calls.get(id)?.fail(err as Error)
}

/**
 * Watches what the transport returned for a call's message: a rejection fails call `id`. The
 * caller awaits the reply promise only, so a reply or an abort that settles before the transport's
 * acknowledgement is always observed. (Call sites hand a synchronous throw to {@link failCall}.)
 */
export function failOnReject(rt: Runtime, id: number, sent: Promise<void> | void): void {
  // Once this bus is closing, a rejection is the transport shutting down under the send: the call
  // fails with ClosedError when close() completes, not with the transport's ConnectionError.
  if (sent) sent.catch((err) => rt.closed || failCall(rt, id, err))
}
