import { PayloadTooLargeError, ProtocolError } from '@unipc/core/spi'
import { describe, expect, it } from 'vitest'
import { encodeFrame, encodeHead, encodeTail, FrameReader } from '../../src/wire/frames.js'
import { decodeValue, encodeValue, type WireValue } from '../../src/wire/msgpack.js'

function collect(max: number) {
  const frames: Buffer[] = []
  const errors: Error[] = []
  const reader = new FrameReader(max, {
    frame: (b) => frames.push(Buffer.from(b)),
    error: (e) => errors.push(e),
  })
  return { reader, frames, errors }
}

function join(f: Buffer | [Buffer, Uint8Array]): Buffer {
  return Array.isArray(f) ? Buffer.concat(f) : f
}

// The msgpack subset itself (every width, hostile input) is core's and tested there
// (packages/core/test/unit/wire-msgpack.test.ts); this checks the bytes of a hub frame.
describe('msgpack subset', () => {
  it('matches the msgpack spec bytes for a small request', () => {
    expect(encodeValue([54, 1, 'echo', new Uint8Array([0xa2, 0x68, 0x69])]).toString('hex')).toBe(
      '943601a46563686fc403a26869',
    )
  })
})

describe('FrameReader', () => {
  it('splits frames arriving one byte at a time and several per chunk', () => {
    const bytes = Buffer.concat([
      join(encodeFrame([1, 'a'])),
      join(encodeFrame([2, new Uint8Array(100_000)])),
      join(encodeFrame([3])),
    ])
    const one = collect(1 << 20)
    for (let i = 0; i < bytes.length; i++) one.reader.push(bytes.subarray(i, i + 1))
    const all = collect(1 << 20)
    all.reader.push(bytes)
    for (const c of [one, all]) {
      expect(c.errors).toEqual([])
      expect(c.frames.map((f) => (decodeValue(f) as WireValue[])[0])).toEqual([1, 2, 3])
    }
  })

  it('writes large payloads as a separate chunk, not copied into the frame', () => {
    const payload = new Uint8Array(1 << 20)
    const f = encodeFrame([55, 3, 9, payload])
    expect(Array.isArray(f) && f[1] === payload).toBe(true)
    const c = collect(2 << 20)
    c.reader.push(join(f))
    expect((decodeValue(c.frames[0] as Buffer) as WireValue[])[3]).toHaveLength(1 << 20)
  })

  it('refuses an oversized length header from the header alone, and an empty frame', () => {
    const big = collect(1024)
    big.reader.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    expect(big.errors[0]).toBeInstanceOf(PayloadTooLargeError)
    big.reader.push(Buffer.from(encodeFrame([1]) as Buffer))
    expect(big.frames).toEqual([]) // nothing more is read after an error
    const empty = collect(1024)
    empty.reader.push(Buffer.alloc(4))
    expect(empty.errors[0]).toBeInstanceOf(ProtocolError)
  })
})

describe('shared-tail frames (one event to several subscribers)', () => {
  it('a head plus a tail encoded once is byte for byte the frame encoded whole', () => {
    const data = new Uint8Array(1024).map((_, i) => i & 0xff)
    const tail = encodeTail(['cam.frame', data])
    for (const subId of [1, 127, 128, 70_000]) {
      const whole = join(encodeFrame([43, subId, 'cam.frame', data]))
      expect(Buffer.concat([encodeHead([43, subId], 2, tail.length), tail])).toEqual(whole)
    }
  })
})
