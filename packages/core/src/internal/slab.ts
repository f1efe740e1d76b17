/**
 * Small Buffers carved from 32 KiB slabs, as Buffer.allocUnsafe carves from Node's 8 KiB pool,
 * with 4 times fewer ArrayBuffers made. With a transport that hands out large native buffers (the
 * shm transport's read batches), making the pool's next ArrayBuffer cost a quarter of a stream
 * item's receive CPU in profiles; every stream item and event takes this path at least once per side.
 * A slab stays alive while any array carved from it does (as a pool does); its memory is zeroed
 * (a fresh ArrayBuffer) and each byte is handed out once. Only Buffers, which share memory by
 * nature: a plain Uint8Array the application receives keeps an ArrayBuffer of its own (it may be
 * transferred to a worker), as msgpackr decodes it.
 * @module
 */
import { Buffer } from 'node:buffer'

/**
 * A Buffer as Node makes them (a Uint8Array whose prototype is Buffer's), built by the typed-array
 * constructor alone: `Buffer.from(arrayBuffer, offset, length)` makes the same object after checking
 * its arguments and reading them through getters, about twice the cost, and every frame a bus sends
 * and every small body it decodes is one of these.
 */
class ViewBuffer extends Uint8Array {}
Object.setPrototypeOf(ViewBuffer.prototype, Buffer.prototype)
// What Buffer#constructor is (Node's FastBuffer says the same), so species lookups behave alike.
Object.defineProperty(ViewBuffer.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  enumerable: false,
  configurable: true,
})

/**
 * A Buffer over `length` bytes of `memory` from `offset` (no copy), as `Buffer.from(memory,
 * offset, length)` makes it but cheaper; the caller has checked the range lies inside `memory`.
 */
export function viewBuffer(memory: ArrayBuffer, offset: number, length: number): Buffer {
  return new ViewBuffer(memory, offset, length) as unknown as Buffer
}

/** Arrays up to this size are carved from a slab; larger ones get memory of their own. */
export const SLAB_MAX = 1024

const SLAB_SIZE = 32 * 1024

let slab = new ArrayBuffer(SLAB_SIZE)
let at = 0

/** The offset in {@link slab} of `len` fresh bytes (8-byte aligned, like Node's pool). */
function take(len: number): number {
  if (at + len > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE)
    at = 0
  }
  const start = at
  at += (len + 7) & ~7
  return start
}

/** A Buffer of `len` bytes (contents unspecified): carved from a slab up to {@link SLAB_MAX} bytes. */
export function slabBuffer(len: number): Buffer {
  if (len > SLAB_MAX) return Buffer.allocUnsafe(len)
  const start = take(len)
  return new ViewBuffer(slab, start, len) as unknown as Buffer
}
