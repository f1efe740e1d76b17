/**
 * The messages bus and broker exchange inside ring frames (docs/protocol/shm.md, "Messages").
 * A frame's type is the message op; its payload is a sequence of little-endian fields: u32
 * numbers, strings (u32 byte length + UTF-8) and a trailing data part (the rest of the frame).
 * Decoding checks every length against the frame: a corrupt or hostile peer gets a ProtocolError.
 * @module
 */
import { ProtocolError } from '@unipc/core/spi'

/** Message ops (the low 16 bits of the frame type). */
export const Op = {
  // bus -> broker
  Push: 10,
  Consume: 11,
  Unconsume: 12,
  Ack: 13,
  /** A Push acknowledged in bulk by Pushed (queue protocol 2, see queue-client.ts). */
  Enqueue: 14,
  /** Acks of several deliveries of one consumer: `cid`, then `did`s up to the frame's end. */
  Acks: 15,
  Get: 20,
  GetAll: 21,
  Set: 22,
  Delete: 23,
  Watch: 24,
  Unwatch: 25,
  Publish: 30,
  Subscribe: 31,
  Unsubscribe: 32,
  Send: 40,
  Serve: 41,
  Unserve: 42,
  Dispatch: 43,
  Done: 44,
  /** Asks for a method's servers (and their later changes, see Members). */
  Lookup: 45,
  // bus -> bus, on a direct link (see dispatcher.ts): Request, Done, and
  /** The bus no longer serves the request's server id: the caller dispatches it again. */
  Refused: 46,
  // broker -> bus
  Reply: 100,
  Delivery: 101,
  Change: 102,
  Message: 103,
  Inbox: 104,
  Request: 105,
  /** A method's servers changed (pushed to buses that looked the method up). */
  Members: 106,
  /** Every Enqueue of this bus up to and including `corr` is queued (one per broker job). */
  Pushed: 107,
} as const

/** Set in a frame type when the data part is a blob descriptor (segment name + length). */
export const BLOB_FLAG = 0x1_0000
/** Set in a frame type when the data part is a slab descriptor (slab name, position, length). */
export const SLAB_FLAG = 0x2_0000

/** Reply status byte. */
export const Status = { Ok: 0, Error: 1 } as const

/** Builds a message's fields in a reusable buffer. */
export class FieldWriter {
  #buf = Buffer.allocUnsafe(4096)
  #len = 0

  /** Starts a new message. */
  reset(): this {
    this.#len = 0
    return this
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n))
    this.#buf.copy(next, 0, 0, this.#len)
    this.#buf = next
  }

  /** Appends an unsigned 32-bit number. */
  u32(v: number): this {
    this.#room(4)
    const buf = this.#buf
    const at = this.#len
    // By hand: cheaper than writeUInt32LE (ids of every request and Done).
    buf[at] = v
    buf[at + 1] = v >>> 8
    buf[at + 2] = v >>> 16
    buf[at + 3] = v >>> 24
    this.#len = at + 4
    return this
  }

  /** Appends a byte. */
  u8(v: number): this {
    this.#room(1)
    this.#buf[this.#len++] = v
    return this
  }

  /** Appends a float64 (used for blob lengths, which exceed u32 only in theory). */
  f64(v: number): this {
    this.#room(8)
    this.#buf.writeDoubleLE(v, this.#len)
    this.#len += 8
    return this
  }

  /** Appends a string: u32 byte length then UTF-8. */
  str(s: string): this {
    const max = Buffer.byteLength(s)
    this.#room(4 + max)
    const n = this.#buf.write(s, this.#len + 4)
    this.#buf.writeUInt32LE(n, this.#len)
    this.#len += 4 + n
    return this
  }

  /** Appends length-prefixed bytes (for values inside lists). */
  bytes(b: Uint8Array): this {
    this.#room(4 + b.length)
    this.#buf.writeUInt32LE(b.length, this.#len)
    this.#buf.set(b, this.#len + 4)
    this.#len += 4 + b.length
    return this
  }

  /** Appends bytes as they are (fields written earlier, kept while a link connects). */
  raw(b: Uint8Array): this {
    this.#room(b.length)
    this.#buf.set(b, this.#len)
    this.#len += b.length
    return this
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len
  }

  /** Copies the fields written so far into `target` at `at` (no view allocated). */
  copyTo(target: Buffer, at: number): void {
    const n = this.#len
    const buf = this.#buf
    // Most fields are a few ids: a loop beats Buffer.copy, which makes a view to copy from.
    if (n <= 32) for (let i = 0; i < n; i++) target[at + i] = buf[i] as number
    else buf.copy(target, at, 0, n)
  }

  /** The fields written so far (a view, valid until the next reset). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len)
  }
}

/**
 * Reads the little-endian u32 at `at` of `buf`, by hand (cheaper than readUInt32LE); the caller
 * checked the four bytes are there. Integer operations only (`>>> 0` last): ids stay small
 * integers, never boxed doubles.
 */
export function readU32(buf: Buffer, at: number): number {
  return (
    ((buf[at] as number) |
      ((buf[at + 1] as number) << 8) |
      ((buf[at + 2] as number) << 16) |
      ((buf[at + 3] as number) << 24)) >>>
    0
  )
}

/** Reads a message's fields, refusing anything that runs past the frame. */
export class FieldReader {
  #pos: number

  /**
   * @param buf - the batch buffer from NativeLink.read
   * @param start - the payload's first byte
   * @param end - one past its last byte
   */
  constructor(
    private buf: Buffer,
    start: number,
    private end: number,
  ) {
    this.#pos = start
  }

  /** Points this reader at another frame (one reader serves a whole batch). */
  reset(buf: Buffer, start: number, end: number): void {
    this.buf = buf
    this.#pos = start
    this.end = end
  }

  #need(n: number): number {
    const at = this.#pos
    if (n < 0 || at + n > this.end)
      throw new ProtocolError('shm message is truncated (a field runs past its frame)')
    this.#pos += n
    return at
  }

  /** Reads an unsigned 32-bit number. */
  u32(): number {
    // #need checked the four bytes are in the frame.
    return readU32(this.buf, this.#need(4))
  }

  /** Reads a byte. */
  u8(): number {
    return this.buf[this.#need(1)] as number
  }

  /** Reads a float64 and checks it is a safe non-negative integer. */
  length(): number {
    const v = this.buf.readDoubleLE(this.#need(8))
    if (!Number.isSafeInteger(v) || v < 0) throw new ProtocolError('shm message has an invalid length')
    return v
  }

  /** Reads a string. */
  str(): string {
    const n = this.u32()
    const at = this.#need(n)
    return this.buf.toString('utf8', at, at + n)
  }

  /** Reads length-prefixed bytes (a view into the batch buffer). */
  bytes(): Uint8Array {
    const n = this.u32()
    const at = this.#need(n)
    return this.buf.subarray(at, at + n)
  }

  /** True while unread bytes are left in the frame. */
  more(): boolean {
    return this.#pos < this.end
  }

  /** The rest of the frame (the data part), as a copy of its own (for data that is kept). */
  restCopy(): Uint8Array {
    const at = this.#pos
    this.#pos = this.end
    return Uint8Array.prototype.slice.call(this.buf, at, this.end)
  }

  /** The rest of the frame (the data part), as a view. */
  rest(): Uint8Array {
    const at = this.#pos
    this.#pos = this.end
    return this.buf.subarray(at, this.end)
  }
}

/**
 * Decodes `[u32 count]([str key][bytes value])*`, the data part of Set and of a GetAll reply.
 * @param data - the data part
 * @param copy - copy the values (true when they are kept; false leaves views into `data`)
 */
export function readEntries(data: Uint8Array, copy: boolean): Map<string, Uint8Array> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const r = new FieldReader(buf, 0, buf.length)
  const out = new Map<string, Uint8Array>()
  for (let n = r.u32(); n > 0; n--) {
    const key = r.str()
    const value = r.bytes()
    out.set(key, copy ? new Uint8Array(value) : value)
  }
  return out
}
