/**
 * Several inbox frames in one PUBLISH. A lone frame travels as itself (a core frame, a msgpack
 * array); frames sent to one inbox in the same turn travel as one envelope: the byte 0xc1 (which
 * msgpack never uses, so no core frame starts with it), then per frame a 4-byte big-endian length
 * and the frame's bytes.
 * @module
 */

/** First byte of an envelope. */
export const ENVELOPE = 0xc1

/** Largest envelope (bytes) the sender builds; a bigger frame travels alone. */
export const ENVELOPE_LIMIT = 256 * 1024

/** Packs frames into one envelope. */
export function packFrames(frames: readonly Buffer[]): Buffer {
  let size = 1
  for (const f of frames) size += 4 + f.length
  const out = Buffer.allocUnsafe(size)
  out[0] = ENVELOPE
  let at = 1
  for (const f of frames) {
    out.writeUInt32BE(f.length, at)
    f.copy(out, at + 4)
    at += 4 + f.length
  }
  return out
}

/**
 * Hands each frame of an inbox message to `onFrame`: the message itself, or each frame of an
 * envelope (views, no copies). A truncated envelope stops at the last whole frame.
 * @returns false when the envelope was malformed
 */
export function forEachFrame(message: Buffer, onFrame: (frame: Buffer) => void): boolean {
  if (message[0] !== ENVELOPE) {
    onFrame(message)
    return true
  }
  let at = 1
  while (at < message.length) {
    if (at + 4 > message.length) return false
    const end = at + 4 + message.readUInt32BE(at)
    if (end > message.length) return false
    onFrame(message.subarray(at + 4, end))
    at = end
  }
  return true
}
