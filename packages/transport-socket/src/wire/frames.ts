/**
 * Framing: every message is a 4-byte big-endian body length followed by a msgpack array body.
 * This file encodes frames (a large binary last field travels as its own chunk, never copied);
 * reader.ts splits a byte stream back into frame bodies.
 * @module
 */
import { binHeaderSize, sizeOf, type WireValue, write, writeBinHeader } from './msgpack.js'

/** Default largest frame body: 64 MiB. */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024

/** Payloads at least this large are written as a separate chunk instead of being copied into the frame. */
const ZERO_COPY_THRESHOLD = 16 * 1024

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

export { FrameReader, type FrameSink } from './reader.js'
