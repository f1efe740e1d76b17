/**
 * Readers of the msgpack forms that hot frames use (unsigned integers, a binary that ends the body),
 * for the code that reads those frames without the generic decoder (client/hot-frames.ts,
 * hub/hot-frames.ts). They never allocate: a position is returned, -1 for anything unexpected.
 * @module
 */

const BIN8 = 0xc4
const BIN16 = 0xc5
const BIN32 = 0xc6
const UINT8 = 0xcc
const UINT16 = 0xcd
const UINT32 = 0xce

/** Value of the last integer read by {@link uintAt}. */
export let uintValue = 0

/** Reads an unsigned integer at `pos` into `uintValue`; returns the position after it, or -1. */
export function uintAt(b: Uint8Array, pos: number): number {
  const t = b[pos]
  if (t === undefined) return -1
  if (t < 0x80) {
    uintValue = t
    return pos + 1
  }
  if (t === UINT8 && pos + 2 <= b.length) {
    uintValue = b[pos + 1] as number
    return pos + 2
  }
  if (t === UINT16 && pos + 3 <= b.length) {
    uintValue = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
    return pos + 3
  }
  if (t === UINT32 && pos + 5 <= b.length) {
    uintValue =
      (b[pos + 1] as number) * 0x1000000 +
      (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
    return pos + 5
  }
  return -1
}

/** Where the bytes of the binary at `pos` start, when it ends exactly where the body ends; else -1. */
export function binStart(b: Uint8Array, pos: number): number {
  const t = b[pos]
  let len: number
  let start: number
  if (t === BIN8 && pos + 2 <= b.length) {
    len = b[pos + 1] as number
    start = pos + 2
  } else if (t === BIN16 && pos + 3 <= b.length) {
    len = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
    start = pos + 3
  } else if (t === BIN32 && pos + 5 <= b.length) {
    len =
      (b[pos + 1] as number) * 0x1000000 +
      (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
    start = pos + 5
  } else return -1
  return start + len === b.length ? start : -1
}
