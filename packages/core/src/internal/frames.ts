/**
 * The core's own envelope around application payloads: commands, requests, replies, stream items,
 * cancellation and credit. Transports carry these frames as opaque bytes. The envelope is always
 * msgpack (whatever the application codec), as a short array: `[kind, …fields]`. Decoding validates
 * every field's type, so a hostile or corrupt frame is rejected with a ProtocolError, never trusted.
 * Frames are written and read by hand with the core's small wire msgpack (one exact-size buffer per
 * frame, the body copied once, read back as a view): they are on every call's path, twice.
 * Only the error object of an Error frame goes through the general msgpack library.
 * @module
 */
import { Packr } from 'msgpackr'
import { ProtocolError, type SerializedError } from '../errors.js'
import type { BytesOrParts } from '../spi.js'
import {
  binHeaderSize,
  intSize,
  strSize,
  WireReader,
  writeArrayHeader,
  writeBinHeader,
  writeInt,
  writeStr,
} from '../wire-msgpack.js'
import { bytesHeadSize, writeBytesHead } from './msgpack-flat.js'
import { slabBuffer } from './slab.js'

/** Frame kinds; numbers keep frames small. Documented in docs/protocol/core-frames.md. */
export const FrameKind = {
  Command: 1,
  Request: 2,
  Result: 3,
  Error: 4,
  Accepted: 5,
  Item: 6,
  End: 7,
  Cancel: 8,
  Credit: 9,
  Items: 10,
} as const

/** Request flags (bit set). */
export const RequestFlag = {
  /** The caller wants an Accepted frame carrying the server's address (to cancel or grant credit). */
  WantAccept: 1,
  /** Server-streaming call: the reply is Items then End. */
  Stream: 2,
  /** The caller reads Items frames (several stream items in one frame); older callers do not set it. */
  Batch: 4,
} as const

/** A command taken from a queue. */
export interface CommandFrame {
  kind: typeof FrameKind.Command
  id: number
  body: Uint8Array
  /** Inbox address for the reply; empty for fire-and-forget. */
  replyTo: string
  /** Epoch ms after which the command is stale and is not run; 0 for none. */
  deadline: number
  sender: string
}

/** A request dispatched to one server. */
export interface RequestFrame {
  kind: typeof FrameKind.Request
  id: number
  method: string
  body: Uint8Array
  replyTo: string
  flags: number
  deadline: number
  sender: string
  /**
   * Initial credit for streams: items the server may send before waiting for more. A server that
   * knows only item credit (an older version) uses this; with byte credit it is the item window
   * the caller wants from such a server.
   */
  window: number
  /**
   * Byte credit (appended field 10): the encoded body bytes the server may send ahead of the
   * consumer. Absent or 0: item credit only, as before. Undefined when the frame did not carry it.
   */
  windowBytes?: number | undefined
  /** The item window that goes with {@link windowBytes} (appended field 11; absent: {@link window}). */
  windowItems?: number | undefined
}

/** A reply-side frame addressed to a caller's inbox. */
export type ReplyFrame =
  | { kind: typeof FrameKind.Result; id: number; body: Uint8Array }
  | { kind: typeof FrameKind.Error; id: number; error: SerializedError }
  | {
      kind: typeof FrameKind.Accepted
      id: number
      server: string
      /**
       * Appended by a server that counts byte credit for this stream: the byte window it applies.
       * Absent (an older server, or a unary call): the caller grants item credit only.
       */
      windowBytes?: number | undefined
    }
  | { kind: typeof FrameKind.Item; id: number; body: Uint8Array }
  | { kind: typeof FrameKind.End; id: number }

/** A control frame from a caller to the server handling its call. */
export type ControlFrame =
  | { kind: typeof FrameKind.Cancel; id: number; caller: string }
  | {
      kind: typeof FrameKind.Credit
      id: number
      caller: string
      /** Items consumed since the last Credit frame. */
      credit: number
      /** Their encoded body bytes (appended; absent when the stream counts items only). */
      bytes?: number | undefined
    }

/** Any frame that arrives in an inbox. */
export type InboxFrame = ReplyFrame | ControlFrame

/**
 * A body the codec left in parts so that the frame copies the application's bytes once (see
 * `Runtime.encodeBody`): it knows its encoded length and writes itself into the frame.
 */
export interface PartsBody {
  readonly length: number
  writeTo(buf: Buffer, pos: number): number
}

/** What an encoder takes as a body: encoded bytes, or parts written straight into the frame. */
export type Body = Uint8Array | PartsBody

/**
 * A large body for a transport that gathers writes (`supports.gatherWrites`): {@link encodeRequest}
 * and {@link encodeBodyReply} write the frame around its bytes and hand them to the transport as a
 * part of their own, `[frame start, bytes, frame end]`, instead of copying them into the frame.
 * Other encoders (commands, {@link encodeInbox}) write it whole, like any {@link PartsBody}.
 */
export class GatherBody implements PartsBody {
  readonly length: number

  /**
   * @param bytes - the bytes of the part (the application's, or the codec's output); referenced
   *   until the transport wrote them
   * @param kind - how the application's bytes are written as a msgpack value (a header before
   *   them); none when `bytes` are the encoded body already
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly kind?: 'bin' | 'ext',
  ) {
    this.length = (kind ? bytesHeadSize(bytes.length, kind) : 0) + bytes.length
  }

  /** Writes what precedes {@link bytes} in the body (the msgpack header of bytes, if any); returns the end. */
  writeHead(buf: Buffer, pos: number): number {
    return this.kind ? writeBytesHead(buf, pos, this.bytes.length, this.kind) : pos
  }

  writeTo(buf: Buffer, pos: number): number {
    pos = this.writeHead(buf, pos)
    buf.set(this.bytes, pos)
    return pos + this.bytes.length
  }
}

/** A frame to encode: a decoded frame's shape, with any {@link Body}. */
type Outgoing<F> = F extends { body: Uint8Array } ? Omit<F, 'body'> & { body: Body } : F

/** A reply-side or control frame to send to an inbox. */
export type OutboxFrame = Outgoing<InboxFrame>

/** For the error object of Error frames only (a map with optional fields). */
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true })

/** Writes a frame of the given fields, which are safe integers, strings and binaries. */
function frame(fields: readonly (number | string | Body)[]): Buffer {
  let size = 1
  for (const f of fields)
    size += typeof f === 'number' ? intSize(f) : typeof f === 'string' ? strSize(f) : bodySize(f)
  const buf = Buffer.allocUnsafe(size)
  let pos = writeArrayHeader(buf, 0, fields.length)
  for (const f of fields) {
    if (typeof f === 'number') pos = writeInt(buf, pos, f)
    else if (typeof f === 'string') pos = writeStr(buf, pos, f)
    else pos = writeBody(buf, pos, f)
  }
  return buf
}

/** Encoded size of a body with its bin header. */
function bodySize(b: Body): number {
  return binHeaderSize(b.length) + b.length
}

/** Writes a body with its bin header; returns the new position. */
function writeBody(buf: Buffer, pos: number, b: Body): number {
  pos = writeBinHeader(buf, pos, b.length)
  if (b instanceof Uint8Array) {
    buf.set(b, pos)
    return pos + b.length
  }
  return b.writeTo(buf, pos)
}

/**
 * Writes a body, or only its bin header and its own head when its bytes travel as a part of their
 * own (`gather`); returns the new position.
 */
function writeBodyOrHead(buf: Buffer, pos: number, b: Body, gather: GatherBody | undefined): number {
  if (gather === undefined) return writeBody(buf, pos, b)
  return gather.writeHead(buf, writeBinHeader(buf, pos, gather.length))
}

/** The frame `buf` with the bytes of `gather` inserted at `at`, as parts (no copy). */
function gathered(buf: Buffer, at: number, gather: GatherBody): readonly Uint8Array[] {
  return at === buf.length ? [buf, gather.bytes] : [buf.subarray(0, at), gather.bytes, buf.subarray(at)]
}

/** The request fields an encoder takes, with a body of type `B`. */
type RequestFields<B extends Body> = Omit<Outgoing<RequestFrame>, 'kind' | 'body'> & { body: B }

/**
 * Encodes a request frame. Written field by field rather than through {@link frame}: it is on
 * every call's path, and the field array and the type dispatch per field showed in profiles.
 * A {@link GatherBody} makes it parts (`[start, body bytes, end]`); any other body, one buffer.
 */
export function encodeRequest(f: RequestFields<Uint8Array>): Uint8Array
export function encodeRequest(f: RequestFields<Body>): BytesOrParts
export function encodeRequest(f: RequestFields<Body>): BytesOrParts {
  const gather = f.body instanceof GatherBody ? f.body : undefined
  // Byte credit travels in two appended fields, so a request without it is what older peers write.
  const windowBytes = f.windowBytes ?? 0
  const windowItems = windowBytes > 0 ? (f.windowItems ?? f.window) : 0
  const buf = Buffer.allocUnsafe(
    (windowBytes > 0 ? 2 + intSize(windowBytes) + intSize(windowItems) : 2) +
      intSize(f.id) +
      strSize(f.method) +
      bodySize(f.body) -
      (gather ? gather.bytes.length : 0) +
      strSize(f.replyTo) +
      intSize(f.flags) +
      intSize(f.deadline) +
      strSize(f.sender) +
      intSize(f.window),
  )
  buf[0] = windowBytes > 0 ? 0x9b : 0x99 // array of 11 or 9
  buf[1] = FrameKind.Request
  let pos = writeInt(buf, 2, f.id)
  pos = writeStr(buf, pos, f.method)
  pos = writeBodyOrHead(buf, pos, f.body, gather)
  const at = pos
  pos = writeStr(buf, pos, f.replyTo)
  pos = writeInt(buf, pos, f.flags)
  pos = writeInt(buf, pos, f.deadline)
  pos = writeStr(buf, pos, f.sender)
  pos = writeInt(buf, pos, f.window)
  if (windowBytes > 0) writeInt(buf, writeInt(buf, pos, windowBytes), windowItems)
  return gather ? gathered(buf, at, gather) : buf
}

/** Encodes a command frame (field by field, like {@link encodeRequest}). */
export function encodeCommand(f: Omit<Outgoing<CommandFrame>, 'kind'>): Uint8Array {
  const buf = Buffer.allocUnsafe(
    2 + intSize(f.id) + bodySize(f.body) + strSize(f.replyTo) + intSize(f.deadline) + strSize(f.sender),
  )
  buf[0] = 0x96 // array of 6
  buf[1] = FrameKind.Command
  let pos = writeInt(buf, 2, f.id)
  pos = writeBody(buf, pos, f.body)
  pos = writeStr(buf, pos, f.replyTo)
  pos = writeInt(buf, pos, f.deadline)
  writeStr(buf, pos, f.sender)
  return buf
}

/** Kinds of the frames that carry a call's body back: {@link encodeBodyReply}. */
type BodyReplyKind = typeof FrameKind.Result | typeof FrameKind.Item

/**
 * Encodes a Result or Item frame: `[kind, id, body]` (the reply of every call, written directly).
 * A {@link GatherBody} makes it parts (`[start, body bytes]`); any other body, one buffer.
 */
export function encodeBodyReply(kind: BodyReplyKind, id: number, body: Uint8Array): Uint8Array
export function encodeBodyReply(kind: BodyReplyKind, id: number, body: Body): BytesOrParts
export function encodeBodyReply(kind: BodyReplyKind, id: number, body: Body): BytesOrParts {
  return bodyReply(kind, id, body, body instanceof GatherBody ? body : undefined)
}

function bodyReply(
  kind: BodyReplyKind,
  id: number,
  body: Body,
  gather: GatherBody | undefined,
): BytesOrParts {
  // From a slab (see slab.ts): one per stream item and per call's answer.
  const buf = slabBuffer(2 + intSize(id) + bodySize(body) - (gather ? gather.bytes.length : 0))
  buf[0] = 0x93 // array of 3
  buf[1] = kind
  const end = writeBodyOrHead(buf, writeInt(buf, 2, id), body, gather)
  return gather ? gathered(buf, end, gather) : buf
}

/**
 * Encodes a Result or Item frame whose body is `bytes` alone, written as the msgpack codec writes
 * them (`form`: see `bytesKind`): what {@link encodeBodyReply} writes for such a body, without an
 * object for the body on the way (a server echoing or returning bytes takes this path per call).
 */
export function encodeBytesReply(
  kind: BodyReplyKind,
  id: number,
  bytes: Uint8Array,
  form: 'bin' | 'ext',
): Buffer {
  const n = bytes.length
  const bodyLen = bytesHeadSize(n, form) + n
  const buf = slabBuffer(2 + intSize(id) + binHeaderSize(bodyLen) + bodyLen)
  buf[0] = 0x93 // array of 3
  buf[1] = kind
  let pos = writeBinHeader(buf, writeInt(buf, 2, id), bodyLen)
  pos = writeBytesHead(buf, pos, n, form)
  // Natively but for a few bytes (a loop costs ~1 ns a byte, the native copy ~15 ns up to 64).
  if (n > 16) buf.set(bytes, pos)
  else for (let i = 0; i < n; i++) buf[pos + i] = bytes[i] as number
  return buf
}

/** Encodes a frame for an inbox. */
export function encodeInbox(f: OutboxFrame): Uint8Array {
  switch (f.kind) {
    case FrameKind.Result:
    case FrameKind.Item:
      // One buffer whatever the body: these bytes may go to any transport.
      return bodyReply(f.kind, f.id, f.body, undefined) as Uint8Array
    case FrameKind.Error: {
      // The error object is appended as the array's last element, encoded by msgpackr.
      const head = frame([f.kind, f.id])
      head[0] = 0x93
      return Buffer.concat([head, packr.pack(f.error)])
    }
    case FrameKind.Accepted:
      return f.windowBytes ? frame([f.kind, f.id, f.server, f.windowBytes]) : frame([f.kind, f.id, f.server])
    case FrameKind.End:
      return frame([f.kind, f.id])
    case FrameKind.Cancel:
      return frame([f.kind, f.id, f.caller])
    case FrameKind.Credit:
      return f.bytes === undefined
        ? frame([f.kind, f.id, f.caller, f.credit])
        : frame([f.kind, f.id, f.caller, f.credit, f.bytes])
  }
}

/** The ProtocolError for a frame that failed to decode. */
function malformed(what: string, cause: unknown): ProtocolError {
  return new ProtocolError(`malformed ${what} frame: ${(cause as Error).message}`, { cause })
}

/** Reads a frame's array header and checks it holds at least `min` elements. */
function openArray(r: WireReader, min: number): number {
  const n = r.arrayHeader()
  if (n < min) throw new ProtocolError(`expected at least ${min} elements`)
  return n
}

const nonNegative = (v: number, name: string): number => {
  if (v < 0) throw new ProtocolError(`negative ${name}`)
  return v
}

// Decoders accept frames with more elements than they know (a newer peer may append fields) and
// read only theirs; a frame of exactly the known length must end where its last field ends.

/** Decodes a command frame taken from a queue. @throws ProtocolError when malformed */
export function decodeCommand(bytes: Uint8Array): CommandFrame {
  const r = new WireReader(bytes)
  try {
    const n = openArray(r, 6)
    if (r.int() !== FrameKind.Command) throw new ProtocolError('not a command')
    const f: CommandFrame = {
      kind: FrameKind.Command,
      id: nonNegative(r.int(), 'id'),
      body: r.bin(),
      replyTo: r.str(),
      deadline: nonNegative(r.number(), 'deadline'),
      sender: r.str(),
    }
    if (n === 6) r.end()
    return f
  } catch (cause) {
    throw malformed('command', cause)
  }
}

/** Decodes a request frame. @throws ProtocolError when malformed */
export function decodeRequest(bytes: Uint8Array): RequestFrame {
  const r = new WireReader(bytes)
  try {
    const n = openArray(r, 9)
    if (r.int() !== FrameKind.Request) throw new ProtocolError('not a request')
    const f: RequestFrame = {
      kind: FrameKind.Request,
      id: nonNegative(r.int(), 'id'),
      method: r.str(),
      body: r.bin(),
      replyTo: r.str(),
      flags: nonNegative(r.int(), 'flags'),
      deadline: nonNegative(r.number(), 'deadline'),
      sender: r.str(),
      window: nonNegative(r.int(), 'window'),
      windowBytes: undefined,
      windowItems: undefined,
    }
    if (n >= 10) f.windowBytes = nonNegative(r.int(), 'windowBytes')
    if (n >= 11) f.windowItems = nonNegative(r.int(), 'windowItems')
    if (n <= 11) r.end()
    return f
  } catch (cause) {
    throw malformed('request', cause)
  }
}

function isSerializedError(v: unknown): v is SerializedError {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  return (
    typeof e.name === 'string' &&
    typeof e.message === 'string' &&
    (e.code === undefined || typeof e.code === 'string')
  )
}

/** Where {@link scanBodyReply} found a Result or Item frame's fields (reused: no object per frame). */
export interface BodyReplyScan {
  kind: BodyReplyKind
  id: number
  /** Offset of the body in the frame; the body runs to the frame's end. */
  start: number
}

/**
 * Reads `[Result|Item, id, body]` by hand, the frame of every call's answer and every stream item,
 * into `out`; false for any other frame, any other form of its fields (a uint64 id, say) or a frame
 * with more elements or bytes, which the general decoder then reads or rejects. No reader object,
 * no per-field dispatch, no view of the body: at a million stream items a second these showed in
 * profiles (a receiver that can decode the body in place need not make a view at all).
 */
export function scanBodyReply(bytes: Uint8Array, out: BodyReplyScan): boolean {
  const kind = bytes[1]
  if (bytes[0] !== 0x93 || (kind !== FrameKind.Item && kind !== FrameKind.Result)) return false
  const pos = readIdAt(bytes, 2, out)
  if (pos < 0) return false
  // A truncated frame leaves `t` undefined, or `start` past the end.
  const t = bytes[pos]
  let len: number
  if (t === 0xc4) len = bytes[pos + 1] as number
  else if (t === 0xc5) len = ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] as number)
  else if (t === 0xc6) len = readUint32(bytes, pos + 1)
  else return false
  const start = pos + (t === 0xc4 ? 2 : t === 0xc5 ? 3 : 5)
  if (start + len !== bytes.length) return false
  out.kind = kind
  out.start = start
  return true
}

/** The body of a frame from `start` to `end` (default: the frame's end), as a Buffer view. */
export function bodyView(bytes: Uint8Array, start: number, end = bytes.length): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes.subarray(start, end)
    : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start)
}

/** Where {@link scanItems} found an Items frame's fields (reused: no object per frame). */
export interface ItemsScan {
  id: number
  /** How many bodies follow. */
  count: number
  /** Offset of the first body's bin header. */
  pos: number
}

/**
 * Reads the head of an Items frame, `[10, id, body…]` written with an array16 header (as
 * {@link ItemsWriter} writes it), into `out`; false for anything else.
 */
export function scanItems(bytes: Uint8Array, out: ItemsScan): boolean {
  if (bytes[0] !== 0xdc || bytes[3] !== FrameKind.Items) return false
  const n = ((bytes[1] as number) << 8) | (bytes[2] as number)
  const pos = readIdAt(bytes, 4, out)
  if (n < 3 || pos < 0 || !(pos < bytes.length)) return false
  out.count = n - 2
  out.pos = pos
  return true
}

/** Where {@link readBinAt} found a body. */
export interface BinSpan {
  start: number
  end: number
}

/** Reads the bin header at `pos` into `out` (its bytes' span); false when it is none or overruns `bytes`. */
export function readBinAt(bytes: Uint8Array, pos: number, out: BinSpan): boolean {
  const t = bytes[pos]
  let len: number
  let start: number
  if (t === 0xc4) {
    len = bytes[pos + 1] as number
    start = pos + 2
  } else if (t === 0xc5) {
    len = ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] as number)
    start = pos + 3
  } else if (t === 0xc6) {
    len = readUint32(bytes, pos + 1)
    start = pos + 5
  } else return false
  const end = start + len
  if (!(end <= bytes.length)) return false
  out.start = start
  out.end = end
  return true
}

/**
 * Writes the Items frames of one stream: `[10, id, body…]`, several stream items in one frame, for
 * a caller that set {@link RequestFlag.Batch}. Bodies are appended to a scratch buffer as the items
 * are sent; {@link take} returns the frame (one exact-size buffer) and starts the next.
 */
export class ItemsWriter {
  #scratch = Buffer.allocUnsafe(4096)
  #used = 0
  #count = 0

  /** @param id - the call's id */
  constructor(readonly id: number) {}

  /** Items appended since the last {@link take}. */
  get count(): number {
    return this.#count
  }

  /** Bytes appended since the last {@link take}. */
  get size(): number {
    return this.#used
  }

  /** Appends one item's body. */
  add(body: Body): void {
    const need = this.#used + binHeaderSize(body.length) + body.length
    if (need > this.#scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#scratch.length * 2))
      this.#scratch.copy(grown, 0, 0, this.#used)
      this.#scratch = grown
    }
    this.#used = writeBody(this.#scratch, this.#used, body)
    this.#count++
  }

  /** The Items frame of what was appended (undefined when nothing was), and a fresh start. */
  take(): Buffer | undefined {
    const count = this.#count
    if (count === 0) return undefined
    const head = 4 + intSize(this.id)
    const out = Buffer.allocUnsafe(head + this.#used)
    const n = count + 2
    out[0] = 0xdc // array16: the count is known only now
    out[1] = n >>> 8
    out[2] = n & 0xff
    out[3] = FrameKind.Items
    writeInt(out, 4, this.id)
    this.#scratch.copy(out, head, 0, this.#used)
    this.#used = 0
    this.#count = 0
    return out
  }
}

const scanned: BodyReplyScan = { kind: FrameKind.Result, id: 0, start: 0 }

/** {@link scanBodyReply} as a frame object (its body a view), or undefined. */
function decodeBodyReply(bytes: Uint8Array): InboxFrame | undefined {
  if (!scanBodyReply(bytes, scanned)) return undefined
  return { kind: scanned.kind, id: scanned.id, body: bodyView(bytes, scanned.start) }
}

/**
 * Reads a call id written as a positive fixint, uint8, uint16 or uint32 at `pos` into `out.id`;
 * returns the position after it, or -1 for any other form (the general decoder then reads it).
 */
export function readIdAt(bytes: Uint8Array, pos: number, out: { id: number }): number {
  const t = bytes[pos] as number
  if (t < 0x80) {
    out.id = t
    return pos + 1
  }
  if (t === 0xcc) {
    out.id = bytes[pos + 1] as number
    return pos + 2
  }
  if (t === 0xcd) {
    out.id = ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] as number)
    return pos + 3
  }
  if (t === 0xce) {
    out.id = readUint32(bytes, pos + 1)
    return pos + 5
  }
  return -1
}

/** A big-endian uint32 at `pos` (NaN when the bytes are not all there). */
function readUint32(b: Uint8Array, pos: number): number {
  return (
    (b[pos] as number) * 0x1000000 +
    (((b[pos + 1] as number) << 16) | ((b[pos + 2] as number) << 8) | (b[pos + 3] as number))
  )
}

/** Decodes a frame that arrived in an inbox. @throws ProtocolError when malformed */
export function decodeInbox(bytes: Uint8Array): InboxFrame {
  const quick = decodeBodyReply(bytes)
  if (quick) return quick
  const r = new WireReader(bytes)
  try {
    const n = openArray(r, 2)
    const kind = r.int()
    const id = nonNegative(r.int(), 'id')
    let f: InboxFrame
    switch (kind) {
      case FrameKind.Result:
      case FrameKind.Item:
        if (n < 3) break
        f = { kind, id, body: r.bin() }
        if (n === 3) r.end()
        return f
      case FrameKind.Error: {
        if (n !== 3) break
        const error: unknown = packr.unpack(r.rest())
        if (!isSerializedError(error)) break
        return { kind, id, error }
      }
      case FrameKind.Accepted:
        if (n < 3) break
        f = {
          kind,
          id,
          server: r.str(),
          windowBytes: n >= 4 ? nonNegative(r.int(), 'windowBytes') : undefined,
        }
        if (n <= 4) r.end()
        return f
      case FrameKind.End:
        if (n === 2) r.end()
        return { kind, id }
      case FrameKind.Cancel:
        if (n < 3) break
        f = { kind, id, caller: r.str() }
        if (n === 3) r.end()
        return f
      case FrameKind.Credit:
        if (n < 4) break
        f = {
          kind,
          id,
          caller: r.str(),
          credit: nonNegative(r.int(), 'credit'),
          bytes: n >= 5 ? nonNegative(r.int(), 'bytes') : undefined,
        }
        if (n <= 5) r.end()
        return f
    }
    throw new ProtocolError(`unexpected shape for kind ${kind}`)
  } catch (cause) {
    throw malformed('inbox', cause)
  }
}
