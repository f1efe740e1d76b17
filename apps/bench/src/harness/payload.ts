/**
 * Benchmark payloads: printable ASCII, so systems that carry strings (JSON-based peers) move exactly
 * as many bytes as the others. Fan-out events start with an 8-digit hex sequence number.
 * @module
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** A payload of `size` random printable bytes. */
export function makePayload(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) buf[i] = ALPHABET.charCodeAt((Math.random() * ALPHABET.length) | 0)
  return buf
}

/** A fan-out event: `template` with `seq` written as 8 hex digits at the start (a fresh buffer). */
export function stampEvent(template: Buffer, seq: number): Buffer {
  const buf = Buffer.from(template)
  buf.write(seq.toString(16).padStart(8, '0'), 0, 8, 'latin1')
  return buf
}

/** Reads the sequence number of a fan-out event, or -1 when it is not one. */
export function readSeq(payload: Uint8Array): number {
  if (payload.byteLength < 8) return -1
  const text = Buffer.from(payload.buffer, payload.byteOffset, 8).toString('latin1')
  const n = Number.parseInt(text, 16)
  return Number.isNaN(n) ? -1 : n
}

/** Byte length of a reply, whatever its type (bytes, string, or an object carrying either). */
export function replyLength(reply: unknown): number {
  if (reply instanceof Uint8Array) return reply.byteLength
  if (typeof reply === 'string') return Buffer.byteLength(reply, 'latin1')
  if (reply instanceof ArrayBuffer) return reply.byteLength
  return -1
}
