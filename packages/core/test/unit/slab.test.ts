import { describe, expect, it } from 'vitest'
import { msgpackCodec } from '../../src/index.js'
import { SLAB_MAX, slabBuffer } from '../../src/internal/slab.js'

describe('Buffers carved from slabs', () => {
  it('never overlap, across slab boundaries, and larger ones get memory of their own', () => {
    const sizes = [1, 7, 8, 64, 65, 1000, SLAB_MAX, 3, SLAB_MAX + 1, 5000]
    const made: Buffer[] = []
    for (let i = 0; i < 2000; i++) {
      const b = slabBuffer(sizes[i % sizes.length] as number)
      expect(Buffer.isBuffer(b)).toBe(true)
      // A Buffer in every way the core and transports use one: its methods, and views of it.
      expect(b.constructor).toBe(Buffer)
      expect(Buffer.isBuffer(b.subarray(0, 1))).toBe(true)
      b.fill(i & 0xff)
      made.push(b)
    }
    made.forEach((b, i) => {
      expect(b.length).toBe(sizes[i % sizes.length])
      expect(b.every((x) => x === (i & 0xff))).toBe(true)
      if (b.length > SLAB_MAX) expect(b.buffer.byteLength).toBeLessThan(64 * 1024)
    })
  })

  it('are Buffers whose methods write and read them', () => {
    const b = slabBuffer(40)
    expect(b.write('héllo', 0, 'utf8')).toBe(6)
    b.writeDoubleBE(1.5, 8)
    expect(b.toString('utf8', 0, 6)).toBe('héllo')
    expect(b.readDoubleBE(8)).toBe(1.5)
    expect(b.slice(0, 6).equals(Buffer.from('héllo'))).toBe(true)
  })

  it('back decoded Buffers that keep their own bytes after later decodes', () => {
    const decoded = Array.from({ length: 3000 }, (_, i) =>
      msgpackCodec.decode(msgpackCodec.encode(Buffer.alloc(1 + (i % 90), i & 0xff))),
    ) as Buffer[]
    decoded.forEach((b, i) => {
      expect(Buffer.isBuffer(b)).toBe(true)
      expect(b.length).toBe(1 + (i % 90))
      expect(b.every((x) => x === (i & 0xff))).toBe(true)
    })
    // A plain Uint8Array still gets an ArrayBuffer of its own (it may be transferred).
    const plain = msgpackCodec.decode(msgpackCodec.encode(new Uint8Array([1, 2, 3]))) as Uint8Array
    expect(plain.constructor).toBe(Uint8Array)
    expect(plain.buffer.byteLength).toBe(3)
  })
})
