/**
 * Waiting for the single reply of a command or request: timeout, abort and bus close all settle
 * the promise exactly once and remove the call from the pending table.
 * @module
 */
import { deserializeError, TimeoutError } from '../errors.js'
import type { Expiring } from './deadline-timers.js'
import { FrameKind, type ReplyFrame } from './frames.js'
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
  /** Turns a failure (remote error, timeout, abort…) into the promise's reason. */
  readonly mapError?: (err: Error) => Error
}

/**
 * One call waiting for its reply: a single object is the pending entry, the timeout list's entry
 * and the abort listener.
 */
class ReplyWait implements PendingCall, Expiring {
  expireAt = 0
  prevExpiring: Expiring | undefined = undefined
  nextExpiring: Expiring | undefined = undefined
  /** A Node timer, only when the bus's timeout lists are all taken (see DeadlineTimers). */
  #timer: NodeJS.Timeout | undefined
  readonly #timed: boolean

  constructor(
    private readonly rt: Runtime,
    private readonly id: number,
    private readonly opts: WaitOptions,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (err: Error) => void,
  ) {
    rt.calls.set(id, this)
    const timeout = opts.timeout
    this.#timed = timeout > 0 && Number.isFinite(timeout)
    if (this.#timed && !rt.deadlines.start(this, timeout))
      this.#timer = setTimeout(() => this.expire(), timeout)
    opts.signal?.addEventListener('abort', this, { once: true })
  }

  onFrame(frame: ReplyFrame): void {
    switch (frame.kind) {
      case FrameKind.Result: {
        this.#settle()
        let value: unknown
        try {
          value = this.rt.decodeBody(frame.body)
          const map = this.opts.mapResult
          if (map) value = map(value)
        } catch (err) {
          this.reject(err as Error)
          return
        }
        this.resolve(value)
        return
      }
      case FrameKind.Error:
        this.fail(deserializeError(frame.error))
        return
      case FrameKind.Accepted:
        this.opts.onAccepted?.(frame.server)
        return
      default:
        this.rt.options.logger.debug(`unipc: unexpected frame kind ${frame.kind} for ${this.#what()}`)
    }
  }

  fail(err: Error): void {
    this.#settle()
    const map = this.opts.mapError
    this.reject(map ? map(err) : err)
  }

  /** The timeout passed. */
  expire(): void {
    this.fail(new TimeoutError(this.#what(), this.opts.timeout))
  }

  /** The caller's signal fired (EventListener interface: no closure per call). */
  handleEvent(): void {
    this.fail(abortReason(this.opts.signal as AbortSignal, this.#what()))
    this.opts.onAbort?.()
  }

  #what(): string {
    return `${this.opts.noun} '${this.opts.name}'`
  }

  #settle(): void {
    this.rt.calls.delete(this.id)
    if (this.#timed) {
      if (this.#timer) clearTimeout(this.#timer)
      else this.rt.deadlines.cancel(this, this.opts.timeout)
    }
    this.opts.signal?.removeEventListener('abort', this)
  }
}

/**
 * Registers call `id` in the pending table and resolves with its decoded result.
 * Register before sending so a fast reply is never missed.
 */
export function waitForReply(rt: Runtime, id: number, opts: WaitOptions): Promise<unknown> {
  return new Promise((resolve, reject) => new ReplyWait(rt, id, opts, resolve, reject))
}

/** Epoch-ms deadline for a timeout, or 0 for none. */
export function deadlineFor(timeout: number): number {
  return timeout > 0 && Number.isFinite(timeout) ? Date.now() + timeout : 0
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
