/**
 * Framing: every message is a 4-byte big-endian body length followed by a msgpack array body.
 * This file encodes frames (a large binary last field travels as its own chunk, never copied);
 * reader.ts splits a byte stream back into frame bodies.
 * @module
 */
import { binHeaderSize, sizeOf, type WireValue, write, writeBinHeader } from './msgpack.js'
import { Parts } from './parts.js'

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
  if (last instanceof Uint8Array && last.length >= ZERO_COPY_THRESHOLD)
    return [headOf(fields as Field[], last.length, EMPTY), last]
  const size = sizeOf(fields)
  const buf = Buffer.allocUnsafe(4 + size)
  buf.writeUInt32BE(size, 0)
  write(buf, 4, fields)
  return buf
}

/** A frame field: a msgpack value, or (last field only) a message in {@link Parts}, written as one binary. */
export type Field = WireValue | Parts

const EMPTY = new Uint8Array(0)
/** A first part up to this size is copied into the frame's header buffer (one chunk less to write). */
const MERGE_FIRST = 512

/** Encoded size of the frame body `fields` (a last {@link Parts} counts as the binary it is written as). */
export function fieldsSize(fields: readonly Field[]): number {
  const n = fields.length
  const last = fields[n - 1]
  if (!(last instanceof Parts)) return sizeOf(fields as WireValue[])
  let size = n < 16 ? 1 : 3
  for (let i = 0; i < n - 1; i++) size += sizeOf(fields[i] as WireValue)
  return size + binHeaderSize(last.length) + last.length
}

/**
 * Encodes a frame whose last field is a message in parts: one buffer with the length, the other
 * fields and the binary's header (and the first part, when small), followed by the remaining parts
 * themselves, which are never copied.
 */
export function encodeGathered(fields: readonly Field[]): Uint8Array[] {
  const parts = fields[fields.length - 1] as Parts
  const list = parts.list
  const first = list[0]
  if (first === undefined || first.length > MERGE_FIRST) return [headOf(fields, parts.length, EMPTY), ...list]
  const out: Uint8Array[] = [headOf(fields, parts.length, first)]
  for (let i = 1; i < list.length; i++) out.push(list[i] as Uint8Array)
  return out
}

/**
 * The start of a frame whose body is `fields`, its last field a binary of `binLength` bytes of which
 * only the first ones, `lead`, are written here (after the binary's header).
 */
function headOf(fields: readonly Field[], binLength: number, lead: Uint8Array): Buffer {
  const n = fields.length
  if (n >= 16) throw new RangeError('a frame has fewer than 16 fields')
  let head = 1
  for (let i = 0; i < n - 1; i++) head += sizeOf(fields[i] as WireValue)
  head += binHeaderSize(binLength)
  const buf = Buffer.allocUnsafe(4 + head + lead.length)
  buf.writeUInt32BE(head + binLength, 0)
  let pos = 4
  buf[pos++] = 0x90 | n
  for (let i = 0; i < n - 1; i++) pos = write(buf, pos, fields[i] as WireValue)
  pos = writeBinHeader(buf, pos, binLength)
  buf.set(lead, pos)
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
