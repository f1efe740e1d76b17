/**
 * Requests: RPC with timeouts, cancellation, remote errors and streamed results. Several servers of
 * one method share the load; the deadline and cancellation reach the handler's AbortSignal; a
 * streaming call is flow-controlled by credit, so a server cannot outrun its consumer.
 * @module
 */

import type { Observable, Subscriber } from 'rxjs'
import { deserializeError, InvalidArgumentError, ProtocolError, TimeoutError } from './errors.js'
import { cancelWhenAccepted } from './internal/cancel-on-accept.js'
import { now } from './internal/deadline-timers.js'
import {
  type BinSpan,
  type Body,
  encodeRequest,
  FrameKind,
  type ReplyFrame,
  RequestFlag,
  readBinAt,
} from './internal/frames.js'
import { isThenable } from './internal/promises.js'
import { PullQueue } from './internal/pull-queue.js'
import { IncomingRequest, readRequest } from './internal/request-reader.js'
import { RequestWriter } from './internal/request-writer.js'
import { abortReason, type Runtime } from './internal/runtime.js'
import { arrivalTime, ServerCall } from './internal/server-call.js'
import {
  deadlineFor,
  failCall,
  failOnReject,
  type MapError,
  type WaitOptions,
  waitForReply,
  waitForRequest,
} from './internal/unary-call.js'
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
  /**
   * Items the server may send ahead of the consumer (item credit window). Default 8192 with byte
   * credit; 256 with `windowBytes: 0`, and for a server of an older version, which counts items only.
   */
  window?: number
  /**
   * Encoded bytes of items the server may send ahead of the consumer (byte credit window), on top of
   * the item window: small items flow in long runs, large ones a few at a time, and the memory a
   * stream holds stays bounded. An item larger than this still flows, one at a time. 0 counts items
   * only, as older versions do. Default 512 KiB.
   */
  windowBytes?: number
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

/** Default item window of a stream with byte credit (see {@link StreamOptions.window}). */
const DEFAULT_STREAM_WINDOW_ITEMS = 8192

/** Default byte window of a stream (see {@link StreamOptions.windowBytes}). */
const DEFAULT_STREAM_WINDOW_BYTES = 512 * 1024

/** Item window of a stream that counts items only (and what a server of an older version gets). */
const ITEM_ONLY_WINDOW = 256

/** The requests facility of a bus. */
export class Requests {
  /** Writes the Request frames of unary calls. */
  readonly #writer: RequestWriter
  /** Where each request this bus serves is read (one object: a call copies out what it keeps). */
  readonly #incoming = new IncomingRequest()

  /** @internal */
  constructor(private readonly rt: Runtime) {
    this.#writer = new RequestWriter(rt.options.component ?? '')
  }

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
    const server = await rt.transport.messaging.serve(method, (delivery) =>
      this.#handle(delivery, handler as RequestHandler),
    )
    return rt.track(server)
  }

  /**
   * Calls `method` on one of its servers and resolves with the result.
   * @throws NoHandlerError (nobody serves it), TimeoutError, AbortError, RemoteError, PayloadTooLargeError, ClosedError
   */
  call<R = unknown>(method: string, data?: unknown, options?: CallOptions): Promise<R> {
    return this.#call(method, data, options, undefined, undefined) as Promise<R>
  }

  /**
   * {@link call} for layers over requests (e.g. typed clients): the result and the failure pass
   * through `mapResult` and `mapError` before the promise settles, which costs one promise per call
   * instead of the two of `call(…).then(mapResult, mapError)`, with the same outcome: a throw from
   * `mapResult` rejects with what it threw (not passed to `mapError`); every failure of the call
   * itself (remote error, timeout, abort, closed bus, no server) is passed to `mapError`.
   * @param mapResult - turns the decoded result into the value the promise resolves with
   * @param mapError - turns a failure into the reason the promise rejects with, or into a promise
   *   (a fallback, e.g. another call) the call's promise then follows
   */
  callMapped<R = unknown>(
    method: string,
    data: unknown,
    options: CallOptions | undefined,
    mapResult: ((value: unknown) => R) | undefined,
    mapError: MapError | undefined,
  ): Promise<R> {
    return this.#call(method, data, options, mapResult, mapError) as Promise<R>
  }

  #call(
    method: string,
    data: unknown,
    options: CallOptions | undefined,
    mapResult: ((value: unknown) => unknown) | undefined,
    mapError: MapError | undefined,
  ): Promise<unknown> {
    const rt = this.rt
    const signal = options?.signal
    let body: Body
    let methodBytes: Uint8Array
    let form: 'bin' | 'ext' | undefined
    try {
      rt.assertOpen('requests.call')
      methodBytes = this.#writer.method(method)
      if (signal) rt.assertNotAborted(signal, `request '${method}'`)
      // Bytes go into the frame as they are; other values through the codec.
      form = rt.bytesForm(data)
      // (A flat object is written into the frame below, before anything else is encoded.)
      body = form ? (data as Uint8Array) : rt.encodeCallBody(data)
    } catch (err) {
      if (!mapError) return Promise.reject(err)
      const out = mapError(err as Error)
      return isThenable(out) ? Promise.resolve(out) : Promise.reject(out)
    }
    const id = rt.nextId()
    const timeout = options?.timeout ?? rt.options.defaultTimeout
    // One clock read for the call's timeout and the deadline its frame carries.
    const t = now()
    const reply = signal
      ? waitForReply(
          rt,
          id,
          cancellable(rt, id, { timeout, signal, noun: 'request', name: method, mapResult, mapError }),
          t,
        )
      : waitForRequest(rt, id, timeout, method, mapResult, mapError, t)
    const frame = this.#writer.encode(
      method,
      methodBytes,
      id,
      body,
      rt.address,
      signal ? RequestFlag.WantAccept : 0,
      deadlineFor(timeout, t),
      form,
    )
    // Not awaited: a transport whose dispatch resolves on a broker's acknowledgement must not hold
    // back a reply (or an abort) that arrives first, which would leave `reply` rejecting unobserved.
    try {
      failOnReject(rt, id, rt.messaging.dispatch(method, frame))
    } catch (err) {
      failCall(rt, id, err)
    }
    return reply
  }

  /**
   * Calls a streaming method. Each subscription (or `for await` loop) makes one call; unsubscribing,
   * breaking out of the loop or aborting cancels it on the server. Flow control keeps at most
   * `window` items and `windowBytes` bytes in flight (see {@link StreamOptions}); credit goes back
   * only as items are consumed: with `for await`, as the loop pulls them, with a subscriber, as its
   * `next` returns.
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
    const windowBytes = Math.max(0, Math.floor(options.windowBytes ?? DEFAULT_STREAM_WINDOW_BYTES))
    const windowItems = Math.max(1, Math.floor(options.window ?? DEFAULT_STREAM_WINDOW_ITEMS))
    // What a server counting items only uses: the caller's item window, or the old default.
    const window = Math.max(1, Math.floor(options.window ?? ITEM_ONLY_WINDOW))
    // Credit goes back once half a window is consumed (thresholds worked out once, not per item).
    // Until the server's Accepted frame says it counts bytes, the caller counts items only.
    let itemsEvery = Math.ceil(window / 2)
    let bytesEvery = Number.POSITIVE_INFINITY
    let finished = false
    let server: string | undefined
    let byteCredit = false
    let items = 0
    let bytes = 0
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
      consumed(size) {
        items++
        bytes += size
        if ((items >= itemsEvery || bytes >= bytesEvery) && server && !finished) {
          rt.sendFrame(server, {
            kind: FrameKind.Credit,
            id,
            caller: rt.address,
            credit: items,
            bytes: byteCredit ? bytes : undefined,
          })
          items = 0
          bytes = 0
        }
      },
    }
    // An item whose body lies from `start` to `end` in `bytes` (read in place: no view of it).
    const deliver = (bytes: Uint8Array, start: number, end: number): void => {
      let value: R
      try {
        value = rt.decodeBodyAt(bytes, start, end) as R
      } catch (err) {
        fail(err as Error)
        return
      }
      const size = end - start
      sink.next(value, size)
      if (autoCredit) handle.consumed(size)
    }
    const onItem = (bytes: Uint8Array, start: number): void => {
      if (!finished) deliver(bytes, start, bytes.length)
    }
    const span: BinSpan = { start: 0, end: 0 }
    try {
      rt.assertOpen(what)
      rt.assertNotAborted(options.signal, what)
      const body = rt.encodeBody(data)
      rt.calls.set(id, {
        onFrame(frame: ReplyFrame) {
          if (finished) return
          switch (frame.kind) {
            case FrameKind.Accepted:
              server = frame.server
              if (frame.windowBytes && windowBytes > 0) {
                // The server counts bytes (an older one leaves the field out): its windows apply.
                byteCredit = true
                itemsEvery = Math.ceil(windowItems / 2)
                bytesEvery = Math.ceil(frame.windowBytes / 2)
              }
              return
            case FrameKind.Item:
              onItem(frame.body, 0)
              return
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
        onItem,
        onItems(bytes: Uint8Array, pos: number, count: number) {
          let i = 0
          for (; i < count && !finished; i++) {
            if (!readBinAt(bytes, pos, span)) break
            deliver(bytes, span.start, span.end)
            pos = span.end
          }
          if (!finished && (i < count || pos !== bytes.length))
            fail(new ProtocolError(`malformed Items frame for ${what}`))
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
        flags: RequestFlag.Stream | RequestFlag.WantAccept | RequestFlag.Batch,
        deadline: deadlineFor(options.timeout ?? 0),
        sender: rt.options.component ?? '',
        window,
        windowBytes,
        windowItems,
      })
      Promise.resolve(rt.transport.messaging.dispatch(method, frame)).catch((err) => rt.closed || fail(err))
    } catch (err) {
      queueMicrotask(() => fail(err as Error))
    }
    return handle
  }

  #handle(delivery: Delivery, handler: RequestHandler): void {
    const rt = this.rt
    const frame = this.#incoming
    try {
      readRequest(delivery.data, frame)
    } catch (err) {
      rt.options.logger.warn('unipc: dropped a malformed request', err)
      delivery.ack()
      return
    }
    if (frame.deadline > 0 && frame.deadline <= arrivalTime()) {
      delivery.ack()
      return
    }
    const work = new ServerCall(rt, frame, delivery).run(handler, frame)
    if (work) void rt.trackWork(work)
  }
}

/**
 * Wait options that cancel the call on the server when the caller aborts: the server is known once
 * its Accepted frame arrives (the call sets WantAccept), and an abort before that cancels on arrival.
 */
function cancellable(rt: Runtime, id: number, base: WaitOptions): WaitOptions {
  let server: string | undefined
  let cancelled = false
  const sendCancel = (): void => {
    if (server) rt.sendFrame(server, { kind: FrameKind.Cancel, id, caller: rt.address })
  }
  return {
    ...base,
    onAbort: () => {
      cancelled = true
      if (server) sendCancel()
      else cancelWhenAccepted(rt, id)
    },
    onAccepted: (s) => {
      server = s
      if (cancelled) sendCancel()
    },
  }
}

interface StreamSink<R> {
  /** An item arrived; `size` is its encoded body length (what byte credit counts). */
  next(value: R, size: number): void
  error(err: unknown): void
  complete(): void
}

interface StreamHandle {
  cancel(): void
  /** One item of `size` body bytes was consumed: credit goes back to the server in batches. */
  consumed(size: number): void
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
    { next: (v, size) => queue.push(v, size), error: (e) => queue.fail(e), complete: () => queue.end() },
    false,
  )
  const consumed = (size: number): void => handle.consumed(size)
  return {
    next: () => queue.next(consumed),
    async return() {
      queue.end()
      handle.cancel()
      return { value: undefined, done: true }
    },
  }
}
