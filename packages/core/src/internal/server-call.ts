/**
 * One request being handled by a server: its context, cancellation, deadline, stream credit and
 * the single final reply. A handler that returns a plain value is answered synchronously, with no
 * promise, timer or closure allocated for it: that is the common case on a busy server, and every
 * allocation there is paid on every call.
 * @module
 */
import { AbortError, ClosedError, InvalidArgumentError, TimeoutError } from '../errors.js'
import { peerLostError } from '../lost-call.js'
import type { RequestContext, RequestHandler } from '../requests.js'
import type { BytesOrParts, Delivery } from '../spi.js'
import { encodableError } from './error-frame.js'
import { encodeBodyReply, FrameKind, RequestFlag } from './frames.js'
import { isThenable } from './promises.js'
import { isStreamLike, pumpStream } from './pump-stream.js'
import type { IncomingRequest } from './request-reader.js'
import { type ActiveCall, activeKey, type Runtime } from './runtime.js'
import { StreamSender } from './stream-sender.js'

type OutFrame = Parameters<Runtime['sendFrame']>[1]

/**
 * What a handler sees of its call. It also holds the call's abort state, with its AbortSignal made
 * only when the handler reads `signal` (most never do, and an AbortController plus a deadline timer
 * per request is a measurable share of a round trip); an abort before that is remembered and
 * applied when the signal is made. That state is reached through static methods, and the server's
 * state of the call ({@link ServerCall}, this class extended: one object per request, not two)
 * is in private fields, so the handler's object shows nothing but the context's fields.
 */
class CallContext implements RequestContext {
  readonly id: number
  readonly method: string
  readonly sender: string
  readonly deadline: number | undefined
  readonly caller: string
  readonly redelivered: boolean
  #controller: AbortController | undefined = undefined
  #reason: unknown = undefined
  #aborted = false

  constructor(frame: IncomingRequest, redelivered: boolean) {
    this.id = frame.id
    this.method = frame.method
    this.sender = frame.sender
    this.deadline = frame.deadline || undefined
    this.caller = frame.replyTo
    this.redelivered = redelivered
  }

  /** The signal was made for the handler (see {@link ServerCall}). */
  protected signalMade(): void {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
      else this.signalMade()
    }
    return this.#controller.signal
  }

  /** True once {@link abort} was called on `c`, whether or not its signal exists. */
  static aborted(c: CallContext): boolean {
    return c.#aborted
  }

  /** Aborts `c` (the first reason wins). */
  static abort(c: CallContext, reason: unknown): void {
    if (c.#aborted) return
    c.#aborted = true
    c.#reason = reason
    c.#controller?.abort(reason)
  }
}

/**
 * The wall clock as the last synchronous answer read it, for the deadline check of the next
 * request the server reads ({@link arrivalTime}). In a batch of requests a transport delivers, one
 * request's answer and the next one's arrival are separated by core and transport code alone, so
 * one reading serves both (a clock read costs as much as a fifth of the rest of a request's core
 * work). It serves one arrival at most, and is forgotten before any handler runs and at the end of
 * the current task (a microtask), so no application code runs between the reading and its use.
 */
let answeredAt = 0
let answeredAtFresh = false
let forgetQueued = false
const forgetAnsweredAt = (): void => {
  answeredAtFresh = false
  forgetQueued = false
}

/** The wall clock for a request's deadline check on arrival: a fresh reading an answer just took, or Date.now(). */
export function arrivalTime(): number {
  if (answeredAtFresh) {
    answeredAtFresh = false
    return answeredAt
  }
  return Date.now()
}

/** A request in the hands of one handler. */
export class ServerCall extends CallContext implements ActiveCall {
  readonly #rt: Runtime
  // The request's id, method and reply address are the context's fields (the server reads every
  // request into one reused object). Its deadline, as a number: epoch ms, or 0 for none.
  readonly #deadline: number
  readonly #delivery: Delivery
  /** Key in the runtime's table of active calls, once registered there. */
  #key: string | undefined
  // The deadline timer is armed only when it matters: a stream (its pump waits on credit) or a
  // handler that asked for ctx.signal. A unary handler that never looks at it costs no timer.
  /** A stream's items go through this, under the caller's credit (undefined for a unary call). */
  #sender: StreamSender | undefined
  #cancelledByCaller = false
  #settled = false
  #timer: NodeJS.Timeout | undefined

  /**
   * @param rt - the server bus's runtime
   * @param frame - the decoded request (read here and in {@link run}, not kept)
   * @param delivery - the transport's delivery, acknowledged when the call is done
   */
  constructor(rt: Runtime, frame: IncomingRequest, delivery: Delivery) {
    super(frame, delivery.redelivered)
    this.#rt = rt
    this.#deadline = frame.deadline
    this.#delivery = delivery
  }

  /** True once the call is aborted (cancelled, past its deadline, bus closing). */
  get aborted(): boolean {
    return CallContext.aborted(this)
  }

  /**
   * Enters the runtime's table of active calls, where Cancel and Credit frames and close() find
   * it. A call answered synchronously by a handler is never there: nothing can reach it while it
   * runs, unless its caller expects to (WantAccept: it may cancel, or grant stream credit).
   */
  #register(): void {
    if (this.#key !== undefined) return
    this.#key = activeKey(this.caller, this.id)
    this.#rt.active.set(this.#key, this)
  }

  /** The abort signal was made for the handler: its deadline now matters. */
  protected override signalMade(): void {
    this.#armDeadline()
  }

  /**
   * Runs `handler` and answers the caller. Returns a promise only when the handler's work is
   * asynchronous (the bus drains it on close); a plain value is answered before this returns.
   * @param frame - the request this call was made with: read before the handler runs (which may
   *   make the server read another request into the same object)
   */
  run(handler: RequestHandler, frame: IncomingRequest): Promise<void> | undefined {
    const streaming = (frame.flags & RequestFlag.Stream) !== 0
    if (streaming) {
      this.#armDeadline()
      this.#sender = new StreamSender(this.#rt, frame, this)
    }
    let result: unknown
    try {
      if (frame.flags & RequestFlag.WantAccept) {
        this.#register()
        // A stream with byte credit: echoing the byte window tells the caller this server counts bytes
        // (an older server leaves it out, and its caller then grants item credit only).
        const windowBytes = streaming ? frame.windowBytes : undefined
        this.#reply({ kind: FrameKind.Accepted, id: frame.id, server: this.#rt.address, windowBytes })
      }
      const data = this.#rt.decodeBodyAt(frame.src, frame.bodyStart, frame.bodyEnd)
      answeredAtFresh = false
      result = handler(data, this)
    } catch (err) {
      this.#failed(err)
      this.#finish()
      return undefined
    }
    if (!streaming && !isThenable(result)) {
      try {
        this.#answer(result, true)
      } catch (err) {
        this.#failed(err)
      }
      this.#finish()
      return undefined
    }
    this.#register()
    return this.#continue(result, streaming)
  }

  cancel(): void {
    // Called by the caller's Cancel frame, or by close() for handlers still running after the drain.
    if (this.#rt.closed) {
      this.#lost()
      return
    }
    this.#cancelledByCaller = true
    this.#abortWith(new AbortError(`request '${this.method}'`))
  }

  grant(items: number, bytes: number): void {
    this.#sender?.grant(items, bytes)
  }

  closing(): void {
    this.#abortWith(new ClosedError(`request '${this.method}'`))
  }

  async #continue(pending: unknown, streaming: boolean): Promise<void> {
    try {
      const result = await pending
      if (streaming) await this.#stream(result)
      else this.#answer(result)
    } catch (err) {
      this.#failed(err)
    } finally {
      this.#finish()
    }
  }

  /** Sends a unary result; `sync`: right after the handler returned it (see {@link arrivalTime}). */
  #answer(result: unknown, sync = false): void {
    const rt = this.#rt
    const id = this.id
    let frame: BytesOrParts | undefined = rt.encodeBytesReply(FrameKind.Result, id, result)
    if (frame === undefined) {
      if (isStreamLike(result)) {
        throw new InvalidArgumentError(
          `method '${this.method}' streams its result: call it with requests.stream`,
        )
      }
      frame = encodeBodyReply(FrameKind.Result, id, rt.encodeBody(result))
    }
    if (this.#settle(sync)) rt.sendEncoded(this.caller, frame)
  }

  async #stream(result: unknown): Promise<void> {
    const sender = this.#sender as StreamSender
    try {
      await pumpStream(result, this.signal, sender)
    } finally {
      // An item held for credit goes before the End or Error frame that follows it.
      await sender.flush()
    }
    if (!this.aborted) this.#reply({ kind: FrameKind.End, id: this.id })
    else if (this.#rt.closed) this.#lost()
  }

  #failed(err: unknown): void {
    if (this.#rt.closed && this.aborted) this.#lost()
    else if (!this.#cancelledByCaller)
      this.#reply({
        kind: FrameKind.Error,
        id: this.id,
        error: encodableError(err, this.#rt.options.sendErrorStacks),
      })
  }

  #finish(): void {
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#key !== undefined) this.#rt.active.delete(this.#key)
    this.#delivery.ack()
  }

  #reply(f: OutFrame): void {
    if (f.kind === FrameKind.Result || f.kind === FrameKind.Error || f.kind === FrameKind.End) {
      if (!this.#settle()) return
    }
    this.#rt.sendFrame(this.caller, f)
  }

  /**
   * Marks the call answered; false when it was already, or its deadline passed.
   * @param keep - the clock reading may serve the next arrival (see {@link arrivalTime})
   */
  #settle(keep = false): boolean {
    // A late answer would race the caller's own timeout and make the outcome depend on timing.
    if (this.#settled || this.#expired(keep)) return false
    this.#settled = true
    return true
  }

  /** Past its deadline the caller has failed the call with its own TimeoutError. */
  #expired(keep: boolean): boolean {
    const deadline = this.#deadline
    if (deadline <= 0) return false
    const t = Date.now()
    if (keep) {
      answeredAt = t
      answeredAtFresh = true
      if (!forgetQueued) {
        forgetQueued = true
        queueMicrotask(forgetAnsweredAt)
      }
    }
    return t >= deadline
  }

  /** This bus closed before the handler answered: tell the caller now rather than at its timeout. */
  #lost(): void {
    if (this.#settled || this.#cancelledByCaller) return
    this.#reply({
      kind: FrameKind.Error,
      id: this.id,
      error: peerLostError(`the server of '${this.method}' closed before it answered`),
    })
  }

  #abortWith(reason: Error): void {
    CallContext.abort(this, reason)
    this.#sender?.wake()
  }

  #armDeadline(): void {
    const deadline = this.#deadline
    if (deadline <= 0 || this.#timer) return
    this.#timer = setTimeout(
      () => this.#abortWith(new TimeoutError(`request '${this.method}'`, deadline - Date.now())),
      Math.max(0, deadline - Date.now()),
    )
  }
}
