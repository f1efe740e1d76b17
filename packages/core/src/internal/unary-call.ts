/**
 * Waiting for the single reply of a command or request: timeout, abort and bus close all settle
 * the promise exactly once and remove the call from the pending table.
 * @module
 */
import { deserializeError, TimeoutError } from '../errors.js'
import { FrameKind, type ReplyFrame } from './frames.js'
import { abortReason, type PendingCall, type Runtime } from './runtime.js'

/** How long to wait and what cancels the wait. */
export interface WaitOptions {
  /** Milliseconds; 0 or Infinity waits forever. */
  readonly timeout: number
  readonly signal: AbortSignal | undefined
  /** Names the operation in error messages, e.g. `request 'add'`. */
  readonly what: string
  /** Called when the caller aborts (used to send a Cancel frame once the server is known). */
  readonly onAbort?: () => void
  /** Called with the server's address when an Accepted frame arrives. */
  readonly onAccepted?: (server: string) => void
}

/** One call waiting for its reply: a single object is the pending entry, the timer callback and the abort listener. */
class ReplyWait implements PendingCall {
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly rt: Runtime,
    private readonly id: number,
    private readonly opts: WaitOptions,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (err: Error) => void,
  ) {
    rt.calls.set(id, this)
    if (opts.timeout > 0 && Number.isFinite(opts.timeout)) {
      this.#timer = setTimeout(() => this.fail(new TimeoutError(opts.what, opts.timeout)), opts.timeout)
    }
    opts.signal?.addEventListener('abort', this, { once: true })
  }

  onFrame(frame: ReplyFrame): void {
    switch (frame.kind) {
      case FrameKind.Result: {
        this.#settle()
        let value: unknown
        try {
          value = this.rt.decode(frame.body)
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
        this.rt.options.logger.debug(`unipc: unexpected frame kind ${frame.kind} for ${this.opts.what}`)
    }
  }

  fail(err: Error): void {
    this.#settle()
    this.reject(err)
  }

  /** The caller's signal fired (EventListener interface: no closure per call). */
  handleEvent(): void {
    this.fail(abortReason(this.opts.signal as AbortSignal, this.opts.what))
    this.opts.onAbort?.()
  }

  #settle(): void {
    this.rt.calls.delete(this.id)
    if (this.#timer) clearTimeout(this.#timer)
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

/**
 * Hands a call's message to the transport without waiting for it: a synchronous throw or a
 * rejection fails call `id`. The caller awaits the reply promise only, so a reply or an abort
 * that settles before the transport's acknowledgement is always observed.
 */
export function sendOrFail(rt: Runtime, id: number, send: () => Promise<void> | void): void {
  const fail = (err: unknown): void => rt.calls.get(id)?.fail(err as Error)
  try {
    const r = send()
    // Once this bus is closing, a rejection is the transport shutting down under the send: the call
    // fails with ClosedError when close() completes, not with the transport's ConnectionError.
    if (r) r.catch((err) => rt.closed || fail(err))
  } catch (err) {
    fail(err)
  }
}
