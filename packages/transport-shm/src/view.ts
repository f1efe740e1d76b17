/**
 * Buffers made straight from an ArrayBuffer range, for the messages of a read buffer.
 * @module
 */

/**
 * A Buffer as Node makes them (a Uint8Array whose prototype is Buffer's), built by the
 * typed-array constructor alone. `buf.subarray(a, b)` makes the same object but first reads
 * `buffer` and `byteOffset` through their getters and checks its arguments: about twice the cost,
 * paid for every message a link delivers.
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
 * A Buffer over `length` bytes of `memory` from `offset` (no copy); the caller has checked the
 * range lies inside `memory`.
 */
export function viewOf(memory: ArrayBuffer, offset: number, length: number): Buffer {
  return new ViewBuffer(memory, offset, length) as unknown as Buffer
}
