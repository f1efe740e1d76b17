/**
 * Requests: RPC with timeouts, cancellation, remote errors and streamed results. Several servers of
 * one method share the load; the deadline and cancellation reach the handler's AbortSignal; a
 * streaming call is flow-controlled by credit, so a server cannot outrun its consumer.
 * @module
 */
import { Observable, type Subscriber } from 'rxjs'
import { AbortError, ClosedError, deserializeError, InvalidArgumentError, TimeoutError } from './errors.js'
import { cancelWhenAccepted } from './internal/cancel-on-accept.js'
import { encodableError } from './internal/error-frame.js'
import { decodeRequest, encodeRequest, FrameKind, type ReplyFrame, RequestFlag } from './internal/frames.js'
import { LazyAbort } from './internal/lazy-abort.js'
import { PullQueue } from './internal/pull-queue.js'
import { abortReason, activeKey, type Runtime } from './internal/runtime.js'
import { deadlineFor, sendOrFail, waitForReply } from './internal/unary-call.js'
import { peerLostError } from './lost-call.js'
import { assertName } from './names.js'
import { UnipcObservable } from './observable.js'
import type { Closable, Delivery } from './spi.js'

/** Options of {@link Requests.call}. */
export interface CallOptions {
  /** Milliseconds before the call fails with TimeoutError; the server's signal aborts then too. Default: the bus timeout (30 s). */
  timeout?: number
  /** Cancels the call; the server handler's signal fires. */
  signal?: AbortSignal
}

/** Options of {@link Requests.stream}. */
export interface StreamOptions {
  /** Milliseconds for the whole stream; default none. */
  timeout?: number
  /** Cancels the stream; the server handler's signal fires. */
  signal?: AbortSignal
  /** Items the server may send ahead of the consumer (credit window). Default 256. */
  window?: number
}

/** What a request handler receives besides the request data. */
export interface RequestContext {
  /** Identifies the call within its caller. */
  readonly id: number
  /** The method called. */
  readonly method: string
  /** The caller's component (empty when it has none). */
  readonly sender: string
  /** Aborts when the caller cancels, the deadline passes or the bus closes. */
  readonly signal: AbortSignal
  /** Epoch-ms deadline, or undefined when the caller waits forever. */
  readonly deadline: number | undefined
  /** The caller's inbox address; with `id` it identifies the call uniquely (e.g. for idempotency caches). */
  readonly caller: string
  /** True when the transport delivered this request before (its previous server died before acknowledging). */
  readonly redelivered: boolean
}

/** A handler's result: a value, or (for streams) an Observable, async iterable or iterable of values. */
export type HandlerResult<R> = R | Promise<R> | Observable<R> | AsyncIterable<R> | Iterable<R>

/** Serves one method. */
export type RequestHandler<D = unknown, R = unknown> = (
  data: D,
  ctx: RequestContext,
) => HandlerResult<R> | Promise<HandlerResult<R>>

const DEFAULT_WINDOW = 256

/** The requests facility of a bus. */
export class Requests {
  /** @internal */
  constructor(private readonly rt: Runtime) {}

  /**
   * Serves `method` on this bus. With several servers of one method, each call goes to one of them.
   * A thrown error reaches the caller as RemoteError (name, message, code, data); the process never crashes.
   * @param method - the method name
   * @param handler - `(data, ctx) => result`; for streams return an Observable or (async) iterable
   * @returns a handle whose `close()` stops serving
   */
  async serve<D = unknown, R = unknown>(method: string, handler: RequestHandler<D, R>): Promise<Closable> {
    const rt = this.rt
    rt.assertOpen('requests.serve')
    assertName('method', method)
    if (typeof handler !== 'function')
      throw new InvalidArgumentError('requests.serve needs a handler function')
    const server = await rt.transport.messaging.serve(
      method,
      (delivery) => void rt.trackWork(this.#handle(delivery, handler as RequestHandler)),
    )
    return rt.track(server)
  }

  /**
   * Calls `method` on one of its servers and resolves with the result.
   * @throws NoHandlerError (nobody serves it), TimeoutError, AbortError, RemoteError, PayloadTooLargeError, ClosedError
   */
  async call<R = unknown>(method: string, data?: unknown, options: CallOptions = {}): Promise<R> {
    const rt = this.rt
    rt.assertOpen('requests.call')
    assertName('method', method)
    const what = `request '${method}'`
    rt.assertNotAborted(options.signal, what)
    const body = rt.encode(data)
    const id = rt.nextId()
    const timeout = options.timeout ?? rt.options.defaultTimeout
    let server: string | undefined
    let cancelled = false
    const sendCancel = (): void => {
      if (server) rt.sendFrame(server, { kind: FrameKind.Cancel, id, caller: rt.address })
    }
    const reply = waitForReply(rt, id, {
      timeout,
      signal: options.signal,
      what,
      onAbort: () => {
        cancelled = true
        if (server) sendCancel()
        else cancelWhenAccepted(rt, id)
      },
      onAccepted: (s) => {
        server = s
        if (cancelled) sendCancel()
      },
    })
    const frame = encodeRequest({
      id,
      method,
      body,
      replyTo: rt.address,
      flags: options.signal ? RequestFlag.WantAccept : 0,
      deadline: deadlineFor(timeout),
      sender: rt.options.component ?? '',
      window: 0,
    })
    // Not awaited: a transport whose dispatch resolves on a broker's acknowledgement must not hold
    // back a reply (or an abort) that arrives first, which would leave `reply` rejecting unobserved.
    sendOrFail(rt, id, () => rt.transport.messaging.dispatch(method, frame))
    return (await reply) as R
  }

  /**
   * Calls a streaming method. Each subscription (or `for await` loop) makes one call; unsubscribing,
   * breaking out of the loop or aborting cancels it on the server. Flow control keeps at most
   * `window` items in flight; with `for await`, items are requested only as the loop pulls them.
   */
  stream<R = unknown>(method: string, data?: unknown, options: StreamOptions = {}): UnipcObservable<R> {
    assertName('method', method)
    const start = (sink: StreamSink<R>, autoCredit: boolean): StreamHandle =>
      this.#open(method, data, options, sink, autoCredit)
    return new UnipcObservable<R>(
      (subscriber) => {
        const handle = start(subscriberSink(subscriber), true)
        return () => handle.cancel()
      },
      () => pullIterator(start),
    )
  }

  #open<R>(
    method: string,
    data: unknown,
    options: StreamOptions,
    sink: StreamSink<R>,
    autoCredit: boolean,
  ): StreamHandle {
    const rt = this.rt
    const what = `stream '${method}'`
    const window = Math.max(1, Math.floor(options.window ?? DEFAULT_WINDOW))
    let finished = false
    let server: string | undefined
    let consumed = 0
    let timer: NodeJS.Timeout | undefined
    const id = rt.nextId()
    const finish = (): void => {
      finished = true
      rt.calls.delete(id)
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const cancel = (): void => {
      if (finished) return
      finish()
      if (server) rt.sendFrame(server, { kind: FrameKind.Cancel, id, caller: rt.address })
      else cancelWhenAccepted(rt, id)
    }
    const fail = (err: Error): void => {
      if (finished) return
      cancel()
      sink.error(err)
    }
    const onAbort = (): void => fail(abortReason(options.signal as AbortSignal, what))
    const handle: StreamHandle = {
      cancel,
      consumed(n) {
        consumed += n
        if (consumed >= Math.ceil(window / 2) && server && !finished) {
          rt.sendFrame(server, { kind: FrameKind.Credit, id, caller: rt.address, credit: consumed })
          consumed = 0
        }
      },
    }
    try {
      rt.assertOpen(what)
      rt.assertNotAborted(options.signal, what)
      const body = rt.encode(data)
      rt.calls.set(id, {
        onFrame(frame: ReplyFrame) {
          if (finished) return
          switch (frame.kind) {
            case FrameKind.Accepted:
              server = frame.server
              return
            case FrameKind.Item: {
              let value: R
              try {
                value = rt.decode(frame.body) as R
              } catch (err) {
                fail(err as Error)
                return
              }
              sink.next(value)
              if (autoCredit) handle.consumed(1)
              return
            }
            case FrameKind.End:
              finish()
              sink.complete()
              return
            case FrameKind.Error:
              finish()
              sink.error(deserializeError(frame.error))
              return
            case FrameKind.Result:
              finish()
              sink.error(
                new InvalidArgumentError(`method '${method}' is not a streaming method: use requests.call`),
              )
          }
        },
        fail,
      })
      if (options.timeout && options.timeout > 0)
        timer = setTimeout(() => fail(new TimeoutError(what, options.timeout as number)), options.timeout)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const frame = encodeRequest({
        id,
        method,
        body,
        replyTo: rt.address,
        flags: RequestFlag.Stream | RequestFlag.WantAccept,
        deadline: deadlineFor(options.timeout ?? 0),
        sender: rt.options.component ?? '',
        window,
      })
      Promise.resolve(rt.transport.messaging.dispatch(method, frame)).catch((err) => rt.closed || fail(err))
    } catch (err) {
      queueMicrotask(() => fail(err as Error))
    }
    return handle
  }

  async #handle(delivery: Delivery, handler: RequestHandler): Promise<void> {
    const rt = this.rt
    let frame: ReturnType<typeof decodeRequest>
    try {
      frame = decodeRequest(delivery.data)
    } catch (err) {
      rt.options.logger.warn('unipc: dropped a malformed request', err)
      delivery.ack()
      return
    }
    if (frame.deadline > 0 && frame.deadline <= Date.now()) {
      delivery.ack()
      return
    }
    const key = activeKey(frame.replyTo, frame.id)
    const streaming = (frame.flags & RequestFlag.Stream) !== 0
    let credit = frame.window
    let wakeCredit: (() => void) | undefined
    let cancelledByCaller = false
    let settled = false
    let timer: NodeJS.Timeout | undefined
    // Past its deadline the caller has failed the call with its own TimeoutError.
    const expired = (): boolean => frame.deadline > 0 && Date.now() >= frame.deadline
    const abort = (reason: Error): void => {
      controller.abort(reason)
      wakeCredit?.()
    }
    // The deadline timer is armed only when it matters: a stream (its pump waits on credit) or a
    // handler that asked for ctx.signal. A unary handler that never looks at it costs no timer.
    const armDeadline = (): void => {
      if (frame.deadline <= 0 || timer) return
      timer = setTimeout(
        () => abort(new TimeoutError(`request '${frame.method}'`, frame.deadline - Date.now())),
        Math.max(0, frame.deadline - Date.now()),
      )
    }
    const controller = new LazyAbort(armDeadline)
    const reply = (f: Parameters<Runtime['sendFrame']>[1]): void => {
      if (f.kind === FrameKind.Result || f.kind === FrameKind.Error || f.kind === FrameKind.End) {
        // A late answer would race the caller's own timeout and make the outcome depend on timing.
        if (settled || expired()) return
        settled = true
      }
      rt.sendFrame(frame.replyTo, f)
    }
    // This bus closed before the handler answered: tell the caller now rather than at its timeout.
    const lost = (): void => {
      if (settled || cancelledByCaller) return
      reply({
        kind: FrameKind.Error,
        id: frame.id,
        error: peerLostError(`the server of '${frame.method}' closed before it answered`),
      })
    }
    rt.active.set(key, {
      cancel() {
        // Called by the caller's Cancel frame, or by close() for handlers still running after the drain.
        if (rt.closed) return lost()
        cancelledByCaller = true
        abort(new AbortError(`request '${frame.method}'`))
      },
      grant(n) {
        credit += n
        wakeCredit?.()
      },
      closing() {
        abort(new ClosedError(`request '${frame.method}'`))
      },
    })
    if (streaming) armDeadline()
    const ctx: RequestContext = {
      id: frame.id,
      method: frame.method,
      sender: frame.sender,
      get signal() {
        return controller.signal
      },
      deadline: frame.deadline || undefined,
      caller: frame.replyTo,
      redelivered: delivery.redelivered,
    }
    try {
      if (frame.flags & RequestFlag.WantAccept)
        reply({ kind: FrameKind.Accepted, id: frame.id, server: rt.address })
      const result = await handler(rt.decode(frame.body), ctx)
      if (frame.flags & RequestFlag.Stream) {
        const waitCredit = async (): Promise<void> => {
          while (credit <= 0 && !controller.aborted) {
            await new Promise<void>((resolve) => {
              wakeCredit = resolve
            })
            wakeCredit = undefined
          }
        }
        const sendItem = (item: unknown): void => {
          credit--
          reply({ kind: FrameKind.Item, id: frame.id, body: rt.encode(item) })
        }
        await pumpStream(result, controller.signal, waitCredit, sendItem, () => credit > 0)
        if (!controller.aborted) reply({ kind: FrameKind.End, id: frame.id })
        else if (rt.closed) lost()
      } else {
        if (isStreamLike(result)) {
          throw new InvalidArgumentError(
            `method '${frame.method}' streams its result: call it with requests.stream`,
          )
        }
        reply({ kind: FrameKind.Result, id: frame.id, body: rt.encode(result) })
      }
    } catch (err) {
      if (rt.closed && controller.aborted) lost()
      else if (!cancelledByCaller)
        reply({ kind: FrameKind.Error, id: frame.id, error: encodableError(err, rt.options.sendErrorStacks) })
    } finally {
      clearTimeout(timer)
      rt.active.delete(key)
      delivery.ack()
    }
  }
}

interface StreamSink<R> {
  next(value: R): void
  error(err: unknown): void
  complete(): void
}

interface StreamHandle {
  cancel(): void
  consumed(n: number): void
}

function subscriberSink<R>(s: Subscriber<R>): StreamSink<R> {
  return { next: (v) => s.next(v), error: (e) => s.error(e), complete: () => s.complete() }
}

/** A `for await` iterator that grants credit only as items are pulled. */
function pullIterator<R>(
  start: (sink: StreamSink<R>, autoCredit: boolean) => StreamHandle,
): AsyncIterator<R> {
  const queue = new PullQueue<R>()
  const handle = start(
    { next: (v) => queue.push(v), error: (e) => queue.fail(e), complete: () => queue.end() },
    false,
  )
  return {
    next: () => queue.next(() => handle.consumed(1)),
    async return() {
      queue.end()
      handle.cancel()
      return { value: undefined, done: true }
    },
  }
}

function isStreamLike(v: unknown): boolean {
  return v instanceof Observable || (typeof v === 'object' && v !== null && Symbol.asyncIterator in v)
}

/**
 * Sends a handler's stream result item by item, waiting for credit. Async and sync iterables are
 * pulled only when credit allows (true backpressure). An Observable cannot be paused, so items it
 * emits without credit are buffered until credit arrives.
 */
async function pumpStream(
  result: unknown,
  signal: AbortSignal,
  waitCredit: () => Promise<void>,
  send: (item: unknown) => void,
  hasCredit: () => boolean,
): Promise<void> {
  if (result instanceof Observable) {
    const pending: unknown[] = []
    let complete = false
    let failure: { error: unknown } | undefined
    let wake: (() => void) | undefined
    const sub = result.subscribe({
      next: (v) => {
        if (pending.length === 0 && hasCredit()) send(v)
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
          await waitCredit()
          if (signal.aborted) break
          send(pending.shift())
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
    for await (const item of result as AsyncIterable<unknown>) {
      await waitCredit()
      if (signal.aborted) return
      send(item)
    }
    return
  }
  // A plain value from a streaming method is a one-item stream.
  await waitCredit()
  if (!signal.aborted) send(result)
}
