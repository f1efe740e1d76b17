import { PayloadTooLargeError, ProtocolError } from '@unipc/core/spi'
import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../src/wire/frames.js'
import { FrameReader } from '../../src/wire/reader.js'

/** A frame body of `size` bytes whose content tells frames apart. */
function body(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

function wire(bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const head = Buffer.allocUnsafe(4)
      head.writeUInt32BE(b.length, 0)
      return [head, b]
    }),
  )
}

/** Keeps the frames as handed out (views, not copies), so a later read overwriting one would show. */
function keep(max: number) {
  const frames: Buffer[] = []
  const errors: Error[] = []
  const reader = new FrameReader(max, { frame: (b) => frames.push(b), error: (e) => errors.push(e) })
  return { reader, frames, errors }
}

/** Feeds `bytes` the way a socket with `onread` does: each read fills part of `readTarget()`. */
function readAll(reader: FrameReader, bytes: Buffer, readSize: () => number): void {
  let at = 0
  while (at < bytes.length) {
    const target = reader.readTarget()
    const n = Math.min(target.length, readSize(), bytes.length - at)
    bytes.copy(target, 0, at, at + n)
    at += n
    reader.written(n)
  }
}

// Sizes around every boundary of the reader: tiny, near a slab's free room, own-buffer frames
// that fit or do not fit the slab, 256 KiB, 1 MiB.
const sizes = [
  1,
  7,
  300,
  4_000,
  15_000,
  16_383,
  16_384,
  20_000,
  40_000,
  65_532,
  65_536,
  70_000,
  262_143,
  262_144,
  1 << 20,
  2,
]

describe('FrameReader reading into its own buffers (readTarget/written)', () => {
  let seed = 1
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed
  }
  for (const [name, readSize] of [
    ['whole reads', () => Number.MAX_SAFE_INTEGER],
    ['1-byte reads', () => 1],
    ['random reads up to 100 kB', () => 1 + (random() % 100_000)],
  ] as const) {
    it(`delivers every frame intact with ${name}, and earlier frames stay intact`, () => {
      const bodies = (name === '1-byte reads' ? sizes.filter((s) => s < 100_000) : [...sizes, ...sizes])
        .concat(Array.from({ length: 200 }, (_, i) => 1 + (i % 50)))
        .map((s, i) => body(s, i))
      const c = keep(2 << 20)
      readAll(c.reader, wire(bodies), readSize)
      expect(c.errors).toEqual([])
      expect(c.frames.length).toBe(bodies.length)
      for (let i = 0; i < bodies.length; i++) expect(c.frames[i]?.equals(bodies[i] as Buffer)).toBe(true)
    })
  }

  it('reads a large frame straight into the buffer that becomes its body', () => {
    const c = keep(2 << 20)
    const frame = wire([body(1 << 20, 5)])
    const first = c.reader.readTarget()
    frame.copy(first, 0, 0, 1000)
    c.reader.written(1000)
    // The rest of the frame goes to one target of exactly the missing size…
    const rest = c.reader.readTarget()
    expect(rest.length).toBe(frame.length - 1000)
    frame.copy(rest, 0, 1000)
    c.reader.written(rest.length)
    // …which is a view of the delivered body, not a buffer copied from afterwards.
    expect(c.frames[0]?.buffer).toBe(rest.buffer)
    expect(c.frames[0]?.length).toBe(1 << 20)
  })

  it('a small frame someone keeps holds on to the bytes of its own read only', () => {
    const c = keep(1 << 20)
    readAll(c.reader, wire([body(100, 1)]), () => 104)
    readAll(c.reader, wire([body(10_000, 2), body(3_000, 3)]), () => 13_008)
    expect(c.frames.map((f) => f.length)).toEqual([100, 10_000, 3_000])
    // 100 bytes come from node's shared 8 KiB pool; the two frames of the second read share one
    // buffer of exactly their size: nothing points into the reader's 64 KiB scratch buffer.
    expect(c.frames[0]?.buffer.byteLength).toBeLessThanOrEqual(8 * 1024)
    expect(c.frames[1]?.buffer.byteLength).toBe(13_008)
    expect(c.frames[2]?.buffer).toBe(c.frames[1]?.buffer)
  })

  it('matches push() on the same bytes, including frames the encoder split in two', () => {
    const bytes = Buffer.concat(
      [encodeFrame([55, 1, 2, body(100_000, 1)]), encodeFrame([1, 'a']), encodeFrame([3])].flatMap((f) =>
        Array.isArray(f) ? [f[0], Buffer.from(f[1])] : [f],
      ),
    )
    const viaReads = keep(1 << 20)
    readAll(viaReads.reader, bytes, () => 3_000)
    const viaPush = keep(1 << 20)
    for (let i = 0; i < bytes.length; i += 3_000) viaPush.reader.push(bytes.subarray(i, i + 3_000))
    expect(viaReads.frames.map((f) => f.toString('hex'))).toEqual(
      viaPush.frames.map((f) => f.toString('hex')),
    )
    expect(viaReads.frames.length).toBe(3)
  })

  it('keeps every large body intact while later large frames arrive, read or pushed in pieces', () => {
    // 70 frames of 256 KiB and up, read and pushed in pieces that end inside headers and bodies:
    // every body handed out must still hold its own bytes once all the others were received.
    const bodies = Array.from({ length: 70 }, (_, i) => body(262_144 + i * 4_097, i))
    const bytes = wire(bodies)
    const viaReads = keep(1 << 20)
    let n = 0
    readAll(viaReads.reader, bytes, () => [65_536, 3, 100_000, 262_147][n++ % 4] as number)
    const viaPush = keep(1 << 20)
    for (let i = 0; i < bytes.length; i += 65_535) viaPush.reader.push(bytes.subarray(i, i + 65_535))
    for (const c of [viaReads, viaPush]) {
      expect(c.errors).toEqual([])
      expect(c.frames.length).toBe(bodies.length)
      for (let i = 0; i < bodies.length; i++) expect(c.frames[i]?.equals(bodies[i] as Buffer)).toBe(true)
    }
  })

  it('refuses an oversized length from the header alone and an empty frame, then reads nothing more', () => {
    const big = keep(1024)
    readAll(big.reader, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 7]), () => 9)
    expect(big.errors.map((e) => e.constructor)).toEqual([PayloadTooLargeError])
    readAll(big.reader, wire([body(10, 1)]), () => 100)
    expect(big.frames).toEqual([])
    const empty = keep(1024)
    readAll(empty.reader, Buffer.alloc(8), () => 8)
    expect(empty.errors.map((e) => e.constructor)).toEqual([ProtocolError])
  })
})
