/**
 * The server side of a stream's credit: how many items and encoded body bytes the server may still
 * send ahead of its consumer, and the Item frames it sends within them.
 *
 * Byte credit works like an HTTP/2 or gRPC window, except that an item cannot be split: an item is
 * pulled only while both windows are open, and once encoded it goes when it fits in the byte window
 * left, or when less than half the byte window is outstanding (the caller grants credit only after
 * consuming half of it, so waiting then could wait forever). An item larger than the window thus
 * still flows, one at a time, and the bytes outstanding never exceed
 * `max(windowBytes, windowBytes / 2 + largest item)`. An item that does not fit is held, encoded,
 * until credit arrives. Without byte credit (an older caller) the byte window is unbounded and this
 * is plain item credit.
 *
 * Items sent in one run (a generator pulled while credit lasts, an Observable emitting in a burst)
 * go to a caller that reads them (RequestFlag.Batch) as Items frames of several items each: the
 * frame, its allocation, the transport's send and the receiver's dispatch are paid once per batch,
 * not per item. A batch is sent when the run yields (a microtask), when it reaches
 * {@link BATCH_BYTES} or {@link BATCH_ITEMS}, and before a larger item, the End or an Error.
 * @module
 */
import { type Body, FrameKind, ItemsWriter, RequestFlag, type RequestFrame } from './frames.js'
import type { Runtime } from './runtime.js'

/** An Items frame is sent once its bodies reach this many bytes (it stays well inside any ring). */
const BATCH_BYTES = 32 * 1024
/** …or this many items. */
const BATCH_ITEMS = 1024
/** Larger items go in Item frames of their own (copying them into a batch would cost more than it saves). */
const BATCH_ITEM_MAX = 4096

/** What the pump needs from a stream's sender (see pump-stream.ts). */
export interface CreditedSink {
  /** True once the call is aborted (a plain field: read per item, unlike an AbortSignal's getter). */
  readonly aborted: boolean
  /** True when an item may be pulled from the handler's result now. */
  hasCredit(): boolean
  /** Resolves once {@link hasCredit} holds, or the call aborted. */
  waitCredit(): Promise<void>
  /** Encodes and sends an item, or holds it until credit allows (called only with credit). */
  send(item: unknown): void
}

/** Sends a stream's items under its caller's credit. */
export class StreamSender implements CreditedSink {
  readonly #rt: Runtime
  readonly #to: string
  readonly #id: number
  readonly #abort: { readonly aborted: boolean }
  /** Items that may still be sent before more credit. */
  #items: number
  /** Body bytes that may still be sent before more credit (Infinity: item credit only). */
  #bytes: number
  /** While more than this is left of the byte window, any item goes, however large. */
  readonly #anyAbove: number
  /** An item pulled and encoded, waiting for byte credit. */
  #held: Body | undefined
  #wake: (() => void) | undefined
  /** The Items frame being filled, when the caller reads them. */
  readonly #batch: ItemsWriter | undefined
  #batchQueued = false
  readonly #sendBatch = (): void => {
    this.#batchQueued = false
    this.sendBatch()
  }

  /**
   * @param rt - the server bus's runtime
   * @param frame - the stream's request (its windows)
   * @param abort - the call's abort state (cancelled, past its deadline, bus closing)
   */
  constructor(rt: Runtime, frame: RequestFrame, abort: { readonly aborted: boolean }) {
    this.#rt = rt
    this.#to = frame.replyTo
    this.#id = frame.id
    this.#abort = abort
    const windowBytes = frame.windowBytes ?? 0
    if (windowBytes > 0) {
      this.#items = frame.windowItems ?? frame.window
      this.#bytes = windowBytes
      this.#anyAbove = Math.floor(windowBytes / 2)
    } else {
      this.#items = frame.window
      this.#bytes = Number.POSITIVE_INFINITY
      this.#anyAbove = Number.POSITIVE_INFINITY
    }
    this.#batch = frame.flags & RequestFlag.Batch ? new ItemsWriter(frame.id) : undefined
  }

  get aborted(): boolean {
    return this.#abort.aborted
  }

  hasCredit(): boolean {
    return this.#held === undefined && this.#items > 0 && this.#bytes > 0
  }

  send(item: unknown): void {
    const body = this.#rt.encodeBody(item)
    if (body.length <= this.#bytes || this.#bytes > this.#anyAbove) this.#emit(body)
    else this.#held = body
  }

  /** The caller consumed `items` items of `bytes` body bytes. */
  grant(items: number, bytes: number): void {
    this.#items += items
    this.#bytes += bytes
    const held = this.#held
    if (held !== undefined && (held.length <= this.#bytes || this.#bytes > this.#anyAbove)) {
      this.#held = undefined
      if (!this.#abort.aborted) this.#emit(held)
    }
    this.wake()
  }

  async waitCredit(): Promise<void> {
    while (!this.hasCredit() && !this.#abort.aborted) await this.#sleep()
  }

  /**
   * Resolves once no item is held (sent, or the call aborted) and the batch is sent: the End or
   * Error frame must follow the last item.
   */
  async flush(): Promise<void> {
    while (this.#held !== undefined && !this.#abort.aborted) await this.#sleep()
    this.sendBatch()
  }

  /** Sends the items batched so far (if any) as one Items frame. */
  sendBatch(): void {
    const frame = this.#batch?.take()
    if (frame) this.#rt.sendEncoded(this.#to, frame)
  }

  /** Wakes a waiting pump (credit arrived, or the call aborted). */
  wake(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve
    })
  }

  #emit(body: Body): void {
    this.#items--
    this.#bytes -= body.length
    const batch = this.#batch
    if (batch !== undefined && body.length <= BATCH_ITEM_MAX) {
      batch.add(body)
      if (batch.size >= BATCH_BYTES || batch.count >= BATCH_ITEMS) this.sendBatch()
      else if (!this.#batchQueued) {
        this.#batchQueued = true
        queueMicrotask(this.#sendBatch)
      }
      return
    }
    if (batch !== undefined) this.sendBatch()
    this.#rt.sendBody(FrameKind.Item, this.#to, this.#id, body)
  }
}
