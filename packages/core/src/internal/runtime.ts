/**
 * State shared by the facilities of one bus: the transport, codec, limits, the table of calls
 * waiting for replies, the server-side table of calls being handled, and the resources to release
 * on close. Facilities are thin over this; the bus owns its lifecycle.
 * @module
 */
import { type Codec, decodeMsgpack, msgpackCodec } from '../codec.js'
import { AbortError, ClosedError, InvalidArgumentError, PayloadTooLargeError, UnipcError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { BytesOrParts, Closable, GatheringMessaging, Transport } from '../spi.js'
import { CallTable } from './call-table.js'
import { DeadlineTimers } from './deadline-timers.js'
import {
  type Body,
  type BodyReplyScan,
  bodyView,
  type ControlFrame,
  decodeInbox,
  encodeBodyReply,
  encodeBytesReply,
  encodeInbox,
  FrameKind,
  GatherBody,
  type ItemsScan,
  type ReplyFrame,
  scanBodyReply,
  scanItems,
} from './frames.js'
import { BytesBody, bytesHeadSize, bytesKind, pendingFlat } from './msgpack-flat.js'

/** Smallest Buffer body handed out as a view (below it, a copy costs little and pins nothing). */
export const VIEW_BODIES_FROM = 64 * 1024

/**
 * Smallest body handed to a transport that gathers writes as a part of its own (below it, copying
 * into the frame costs less than one more part).
 */
export const GATHER_BODIES_FROM = 64 * 1024

/**
 * A transport as the core calls it: `send` and `dispatch` receive parts only when it declares
 * `supports.gatherWrites` (any Transport is one: the wider parameter is the flag's promise).
 */
export interface CoreTransport extends Transport {
  readonly messaging: GatheringMessaging
}

/** A call waiting for frames in this bus's inbox. */
export interface PendingCall {
  /** Handles a reply-side frame for this call. */
  onFrame(frame: ReplyFrame): void
  /**
   * Optional: handles an Item frame whose body runs from `start` to the end of `bytes` (a stream's
   * items take this path: no frame object, no view of the body; see {@link Runtime.decodeBodyAt}).
   */
  onItem?(bytes: Uint8Array, start: number): void
  /**
   * Optional: handles a Result frame whose body runs from `start` to the end of `bytes` (every
   * call's answer: no frame object, no view of the body).
   */
  onResult?(bytes: Uint8Array, start: number): void
  /** Optional: handles an Items frame: `count` bodies, the first one's bin header at `pos`. */
  onItems?(bytes: Uint8Array, pos: number, count: number): void
  /** Fails the call (bus closed, transport lost). */
  fail(error: Error): void
}

/** A call being handled by a server on this bus; control frames reach it by caller and id. */
export interface ActiveCall {
  /** The caller cancelled. */
  cancel(): void
  /** The caller granted more stream credit: items consumed, and their body bytes (0 when it counts items only). */
  grant(items: number, bytes: number): void
  /** This bus began closing: the handler's signal should abort so it can finish within the drain. */
  closing(): void
}

/** Settings the application chose at connect time. */
export interface RuntimeOptions {
  readonly component: string | undefined
  readonly codec: Codec
  readonly logger: Logger
  readonly defaultTimeout: number
  readonly maxPayload: number
  readonly drainTimeout: number
  readonly sendErrorStacks: boolean
}

/** The shared state of one bus. */
export class Runtime {
  readonly calls = new CallTable<PendingCall>()
  readonly active = new Map<string, ActiveCall>()
  /** Timeouts of the calls waiting in {@link calls}. */
  readonly deadlines = new DeadlineTimers()
  readonly #resources = new Set<Closable>()
  readonly #work = new Set<Promise<unknown>>()
  readonly #closingSends = new Set<Promise<unknown>>()
  readonly #closing = new AbortController()
  /** {@link closed}, as a field: every call reads it, and the signal's getters cost more than the rest of the check. */
  #closed = false
  #nextId = 1
  /** Large Buffer bodies of calls are handed out as views (see {@link decodeBody}). */
  readonly #viewBodies: boolean
  /** Large bodies of calls go to the transport as parts of their own (see {@link encodeBody}). */
  readonly #gather: boolean
  /** Where the inbox reads an Item frame's fields (one object, reused for every frame). */
  readonly #scan: BodyReplyScan = { kind: FrameKind.Item, id: 0, start: 0 }
  readonly #itemsScan: ItemsScan = { id: 0, count: 0, pos: 0 }

  /** The transport's messaging (what every call and answer goes through: one property read less). */
  readonly messaging: GatheringMessaging

  constructor(
    readonly transport: CoreTransport,
    readonly options: RuntimeOptions,
  ) {
    this.messaging = transport.messaging
    this.#viewBodies = transport.supports.ownedDeliveries === true && options.codec === msgpackCodec
    this.#gather = transport.supports.gatherWrites === true
    this.messaging.onMessage((bytes) => this.#onInbox(bytes))
  }

  /** This bus's component, or a clear error when a facility needs one. */
  requireComponent(what: string): string {
    const c = this.options.component
    if (!c) throw new InvalidArgumentError(`${what} needs a component: connect(url, { component: 'name' })`)
    return c
  }

  /** The inbox address of this bus. */
  get address(): string {
    return this.messaging.address
  }

  /** Aborts when the bus starts closing. */
  get closingSignal(): AbortSignal {
    return this.#closing.signal
  }

  /** True once close() began. */
  get closed(): boolean {
    return this.#closed
  }

  /** Throws ClosedError after close(). */
  assertOpen(what: string): void {
    if (this.closed) throw new ClosedError(what)
  }

  /** Throws AbortError when the signal already fired. */
  assertNotAborted(signal: AbortSignal | undefined, what: string): void {
    if (signal?.aborted) throw abortReason(signal, what)
  }

  /** A fresh call id, unique within this bus. */
  nextId(): number {
    return this.#nextId++
  }

  /** Encodes an application value and checks the size limit. */
  encode(value: unknown): Uint8Array {
    const bytes = this.options.codec.encode(value)
    const limit = Math.min(this.options.maxPayload, this.transport.limits.maxPayload)
    if (bytes.length > limit) throw new PayloadTooLargeError(bytes.length, limit)
    return bytes
  }

  /**
   * Encodes a call's or reply's body for a frame. With the msgpack codec, bytes (a Uint8Array or
   * Buffer) are not copied here: the frame writes them once, with the header msgpackr would write.
   * When the transport gathers writes (`supports.gatherWrites`), a body of
   * {@link GATHER_BODIES_FROM} bytes or more (those bytes, or the codec's output) is not copied
   * into the request or reply frame at all: the transport gets it as a part of its own.
   */
  encodeBody(value: unknown): Body {
    if (value instanceof Uint8Array && this.options.codec === msgpackCodec) {
      const kind = bytesKind(value)
      if (kind) {
        const body =
          this.#gather && value.length >= GATHER_BODIES_FROM
            ? new GatherBody(value, kind)
            : new BytesBody(value, kind)
        const limit = Math.min(this.options.maxPayload, this.transport.limits.maxPayload)
        if (body.length > limit) throw new PayloadTooLargeError(body.length, limit)
        return body
      }
    }
    const bytes = this.encode(value)
    return this.#gather && bytes.length >= GATHER_BODIES_FROM ? new GatherBody(bytes) : bytes
  }

  /**
   * How `value` is written when it is bytes that the msgpack codec writes alone and a frame copies
   * in directly, with no body object on the way (below {@link GATHER_BODIES_FROM} bytes); undefined
   * for anything else (then {@link encodeBody}).
   * @throws PayloadTooLargeError
   */
  bytesForm(value: unknown): 'bin' | 'ext' | undefined {
    if (!(value instanceof Uint8Array) || this.options.codec !== msgpackCodec) return undefined
    const form = value.length < GATHER_BODIES_FROM ? bytesKind(value) : undefined
    if (form === undefined) return undefined
    const limit = Math.min(this.options.maxPayload, this.transport.limits.maxPayload)
    // The body's msgpack header is at most 7 bytes: only a body near the limit needs measuring.
    if (value.length + 7 > limit && bytesHeadSize(value.length, form) + value.length > limit)
      throw new PayloadTooLargeError(bytesHeadSize(value.length, form) + value.length, limit)
    return form
  }

  /**
   * The Result or Item frame of call `id` with `value` as its body when {@link bytesForm} takes
   * it; undefined otherwise (then {@link encodeBody} and {@link sendBody}).
   * @throws PayloadTooLargeError
   */
  encodeBytesReply(
    kind: typeof FrameKind.Result | typeof FrameKind.Item,
    id: number,
    value: unknown,
  ): Uint8Array | undefined {
    const form = this.bytesForm(value)
    return form && encodeBytesReply(kind, id, value as Uint8Array, form)
  }

  /**
   * {@link encodeBody} of a request's data, for a frame written right away (before anything else
   * is encoded): a flat plain object (a typed call's parameters) is measured now and written
   * straight into the frame, without bytes of its own and a copy of them.
   */
  encodeCallBody(value: unknown): Body {
    if (typeof value === 'object' && value !== null && this.options.codec === msgpackCodec) {
      const limit = Math.min(this.options.maxPayload, this.transport.limits.maxPayload)
      // Larger ones take the general way: the size limit's error, parts for a gathering transport.
      const flat = pendingFlat(value, Math.min(GATHER_BODIES_FROM, limit + 1))
      if (flat) return flat
    }
    return this.encodeBody(value)
  }

  /** Decodes an application value. */
  decode(bytes: Uint8Array): unknown {
    return this.options.codec.decode(bytes)
  }

  /**
   * Decodes the body of a request, reply, stream item or command. When the transport's deliveries
   * belong to their receiver (`supports.ownedDeliveries`), a Buffer body of {@link VIEW_BODIES_FROM}
   * bytes or more is a view into the delivered frame, not a copy: a 1 MiB call then costs one copy
   * and one fresh allocation less per side. Each body has one reader, unlike an event's, which every
   * subscription decodes from the same bytes (those stay copies: one subscriber must not change
   * what another sees).
   */
  decodeBody(bytes: Uint8Array): unknown {
    return this.#viewBodies ? decodeMsgpack(bytes, VIEW_BODIES_FROM) : this.options.codec.decode(bytes)
  }

  /**
   * {@link decodeBody} of the body that runs from `start` to `end` (default: the end) of the frame
   * `bytes`: the msgpack codec reads it in place; another codec gets a view.
   */
  decodeBodyAt(bytes: Uint8Array, start: number, end = bytes.length): unknown {
    if (this.options.codec === msgpackCodec)
      return decodeMsgpack(bytes, this.#viewBodies ? VIEW_BODIES_FROM : undefined, start, end)
    return this.options.codec.decode(bodyView(bytes, start, end))
  }

  /** Remembers a resource to close with the bus; returns a closable that also forgets it. */
  track(resource: Closable): Closable {
    this.#resources.add(resource)
    return {
      close: async () => {
        this.#resources.delete(resource)
        await resource.close()
      },
    }
  }

  /** Counts handler work so close() can drain it. */
  trackWork<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work)
    void work.finally(() => this.#work.delete(work)).catch(() => {})
    return work
  }

  /** Sends a frame to an inbox; failures are logged (the peer may be gone), never thrown. */
  sendFrame(to: string, frame: Parameters<typeof encodeInbox>[0]): void {
    let bytes: Uint8Array
    try {
      bytes = encodeInbox(frame)
    } catch (err) {
      this.options.logger.error('unipc: cannot encode frame', err)
      return
    }
    this.#sendBytes(to, bytes)
  }

  /**
   * Sends a Result or Item frame: what {@link sendFrame} does, without building a frame object
   * (every call's answer and every stream item takes this path).
   */
  sendBody(kind: typeof FrameKind.Result | typeof FrameKind.Item, to: string, id: number, body: Body): void {
    this.#sendBytes(to, encodeBodyReply(kind, id, body))
  }

  /** Sends an encoded frame (e.g. an Items frame); failures are logged, never thrown. */
  sendEncoded(to: string, bytes: BytesOrParts): void {
    this.#sendBytes(to, bytes)
  }

  #sendBytes(to: string, bytes: BytesOrParts): void {
    try {
      const r = this.messaging.send(to, bytes)
      if (r) {
        const sent = r.catch((err) => this.options.logger.debug(`unipc: send to ${to} failed`, err))
        // Replies sent while closing (drained handlers, "server closed" errors) must reach the
        // transport before it closes: shutdown() waits for these.
        if (this.closed) {
          this.#closingSends.add(sent)
          void sent.finally(() => this.#closingSends.delete(sent))
        }
      }
    } catch (err) {
      this.options.logger.debug(`unipc: send to ${to} failed`, err)
    }
  }

  /**
   * Fails every call waiting for a reply (the transport lost its link: replies sent meanwhile are
   * gone). Handlers this bus runs are not touched.
   */
  failCalls(error: Error): void {
    const calls = this.calls.values()
    this.calls.clear()
    for (const call of calls) call.fail(error)
  }

  /**
   * Begins closing: stops intake and drains handler work. The bus fails pending calls last (with
   * {@link failCalls}), once the transport is closed, so that a caller awaiting `close()` before
   * looking at its call never sees the call's rejection reported as unhandled.
   */
  async shutdown(): Promise<void> {
    this.#closed = true
    this.#closing.abort(new ClosedError('operation'))
    for (const active of this.active.values()) active.closing()
    const resources = [...this.#resources]
    this.#resources.clear()
    await Promise.allSettled(resources.map((r) => r.close()))
    await settleWithin(this.#work, this.options.drainTimeout)
    for (const active of this.active.values()) active.cancel()
    await settleWithin(this.#closingSends, this.options.drainTimeout)
  }

  #onInbox(bytes: Uint8Array): void {
    if (scanItems(bytes, this.#itemsScan)) {
      const { id, pos, count } = this.#itemsScan
      const call = this.calls.get(id)
      if (call?.onItems) call.onItems(bytes, pos, count)
      else this.options.logger.debug(`unipc: items for unknown call ${id} (finished or cancelled)`)
      return
    }
    const scan = this.#scan
    if (scanBodyReply(bytes, scan)) {
      const call = this.calls.get(scan.id)
      if (scan.kind === FrameKind.Item) {
        if (call?.onItem) {
          call.onItem(bytes, scan.start)
          return
        }
      } else if (call?.onResult) {
        call.onResult(bytes, scan.start)
        return
      }
    }
    let frame: ReturnType<typeof decodeInbox>
    try {
      frame = decodeInbox(bytes)
    } catch (err) {
      this.options.logger.warn('unipc: dropped a malformed inbox frame', err)
      return
    }
    if (frame.kind === FrameKind.Cancel || frame.kind === FrameKind.Credit) {
      this.#onControl(frame)
      return
    }
    const call = this.calls.get(frame.id)
    if (call) call.onFrame(frame)
    else this.options.logger.debug(`unipc: reply for unknown call ${frame.id} (timed out or cancelled)`)
  }

  #onControl(frame: ControlFrame): void {
    const active = this.active.get(activeKey(frame.caller, frame.id))
    if (!active) return
    if (frame.kind === FrameKind.Cancel) active.cancel()
    else active.grant(frame.credit, frame.bytes ?? 0)
  }
}

/** Waits until every promise in `pending` settled, or `ms` passed. */
async function settleWithin(pending: ReadonlySet<Promise<unknown>>, ms: number): Promise<void> {
  if (pending.size === 0) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms)
    }),
  ])
  clearTimeout(timer)
}

/** Key of a server-side call: the caller's address and its call id. */
export function activeKey(caller: string, id: number): string {
  return `${caller}#${id}`
}

/** The error an aborted signal stands for: its reason when that is an Error, else AbortError. */
export function abortReason(signal: AbortSignal, what: string): Error {
  const r = signal.reason
  if (r instanceof UnipcError) return r
  return new AbortError(what, { cause: r })
}
