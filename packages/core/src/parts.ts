/**
 * Helpers for messages handed over in parts (`supports.gatherWrites`): their length and, for the
 * rare paths that need one array, their concatenation. Shared by the core's monitor and by every
 * transport that gathers writes.
 * @module
 */
import type { BytesOrParts } from './spi.js'

/** Byte length of a message: one array's, or the sum of its parts'. */
export function partsLength(data: BytesOrParts): number {
  if (data instanceof Uint8Array) return data.length
  let n = 0
  for (const part of data) n += part.length
  return n
}

/** A message as one byte array: itself, or its parts joined (a copy). */
export function joinParts(data: BytesOrParts): Uint8Array {
  return data instanceof Uint8Array ? data : Buffer.concat(data as Uint8Array[])
}
