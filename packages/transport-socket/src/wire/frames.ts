/**
 * Framing: every message is a 4-byte big-endian body length followed by a msgpack array body.
 * The reader checks the declared length against the limit before allocating anything, hands out
 * small frames as views of the received chunk (no copy) and assembles large frames with a single
 * copy into one buffer of exactly the declared size.
 * @module
 */
import { PayloadTooLargeError, ProtocolError } from '@unipc/core/spi'
import { binHeaderSize, sizeOf, type WireValue, write, writeBinHeader } from './msgpack.js'

/** Default largest frame body: 64 MiB. */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024

/** Payloads at least this large are written as a separate chunk instead of being copied into the frame. */
const ZERO_COPY_THRESHOLD = 16 * 1024

/** Above this declared size, a partially received frame is assembled in its own buffer. */
const ASSEMBLE_THRESHOLD = 64 * 1024

/**
 * Encodes one frame whose body is the msgpack array `fields`. Returns one buffer, or (when the last
 * field is a large binary) a header buffer followed by the payload itself, so large payloads are
 * never copied by the encoder.
 */
export function encodeFrame(fields: WireValue[]): Buffer | [Buffer, Uint8Array] {
  const n = fields.length
  const last = fields[n - 1]
  if (last instanceof Uint8Array && last.length >= ZERO_COPY_THRESHOLD) {
    let head = 1
    for (let i = 0; i < n - 1; i++) head += sizeOf(fields[i])
    head += binHeaderSize(last.length)
    const buf = Buffer.allocUnsafe(4 + head)
    buf.writeUInt32BE(head + last.length, 0)
    let pos = 4
    buf[pos++] = 0x90 | n
    for (let i = 0; i < n - 1; i++) pos = write(buf, pos, fields[i])
    writeBinHeader(buf, pos, last.length)
    return [buf, last]
  }
  const size = sizeOf(fields)
  const buf = Buffer.allocUnsafe(4 + size)
  buf.writeUInt32BE(size, 0)
  write(buf, 4, fields)
  return buf
}

/**
 * Encodes `tail` back to back, without an array header: the part shared by frames that differ only
 * in their first fields (an event sent to several subscribers), so it is encoded once.
 */
export function encodeTail(tail: WireValue[]): Buffer {
  let size = 0
  for (const v of tail) size += sizeOf(v)
  const buf = Buffer.allocUnsafe(size)
  let pos = 0
  for (const v of tail) pos = write(buf, pos, v)
  return buf
}

/**
 * The start of a frame whose body is the array `[...head, ...tail]`, where the tail fields
 * (`tailFields` of them) are already encoded in `tailBytes` bytes by {@link encodeTail}.
 */
export function encodeHead(head: WireValue[], tailFields: number, tailBytes: number): Buffer {
  let size = 1
  for (const v of head) size += sizeOf(v)
  const buf = Buffer.allocUnsafe(4 + size)
  buf.writeUInt32BE(size + tailBytes, 0)
  buf[4] = 0x90 | (head.length + tailFields)
  let pos = 5
  for (const v of head) pos = write(buf, pos, v)
  return buf
}

/** Receives frame bodies, or the reason the stream is unusable (after which nothing more is read). */
export interface FrameSink {
  frame(body: Buffer): void
  error(err: PayloadTooLargeError | ProtocolError): void
}

/** Splits a byte stream into frame bodies. */
export class FrameReader {
  #pending: Buffer | undefined
  #big: Buffer | undefined
  #bigFilled = 0
  #failed = false

  /** @param maxFrame - largest accepted body in bytes; @param sink - receives frames and errors */
  constructor(
    public maxFrame: number,
    readonly sink: FrameSink,
  ) {}

  /** Feeds received bytes. */
  push(chunk: Buffer): void {
    if (this.#failed) return
    if (this.#big) {
      const big = this.#big
      const take = Math.min(big.length - this.#bigFilled, chunk.length)
      chunk.copy(big, this.#bigFilled, 0, take)
      this.#bigFilled += take
      if (this.#bigFilled < big.length) return
      this.#big = undefined
      this.sink.frame(big)
      if (this.#failed || take === chunk.length) return
      chunk = chunk.subarray(take)
    }
    if (this.#pending) {
      chunk = Buffer.concat([this.#pending, chunk])
      this.#pending = undefined
    }
    let off = 0
    while (chunk.length - off >= 4) {
      const len = chunk.readUInt32BE(off)
      if (len > this.maxFrame) {
        this.#fail(new PayloadTooLargeError(len, this.maxFrame))
        return
      }
      if (len === 0) {
        this.#fail(new ProtocolError('empty frame'))
        return
      }
      const avail = chunk.length - off - 4
      if (avail >= len) {
        this.sink.frame(chunk.subarray(off + 4, off + 4 + len))
        if (this.#failed) return
        off += 4 + len
        continue
      }
      if (len > ASSEMBLE_THRESHOLD) {
        const big = Buffer.allocUnsafe(len)
        chunk.copy(big, 0, off + 4)
        this.#big = big
        this.#bigFilled = avail
        return
      }
      break
    }
    if (off < chunk.length) this.#pending = Buffer.from(chunk.subarray(off))
  }

  /** Stops reading (e.g. the connection is being closed). */
  stop(): void {
    this.#failed = true
    this.#pending = undefined
    this.#big = undefined
  }

  #fail(err: PayloadTooLargeError | ProtocolError): void {
    this.stop()
    this.sink.error(err)
  }
}
