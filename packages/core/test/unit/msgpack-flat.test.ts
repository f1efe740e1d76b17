import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { decodeMsgpack } from '../../src/codec.js'
import { CodecError, msgpackCodec } from '../../src/index.js'
import { decodeFast, encodeFlat, encodeScalar, MAX_FIELDS } from '../../src/internal/msgpack-flat.js'

// The codec's msgpackr configuration: the hand-written paths must match it byte for byte.
const packr = new Packr({ moreTypes: true, useRecords: false, useBigIntExtension: true })

const lone = '\ud800'
const ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -32, -33, -128]
const moreInts = [-129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -0]
const floats = [0.5, -1.25e300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310]
const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(255)]
const moreStrings = ['x'.repeat(256), 'y'.repeat(70_000), 'größe 大 🎉', `${'é'.repeat(70)}${lone}`]
const bytes = [0, 1, 254, 255, 256, 65_534, 65_535, 65_536].map((n) =>
  Uint8Array.from({ length: n }, (_, i) => i),
)

const flat: Record<string, unknown>[] = [
  {},
  { data: new Uint8Array(64) },
  { id: 'x', n: 3, ok: true, no: false, none: null, data: Buffer.from('buf') },
  ...[...ints, ...moreInts, ...floats].map((n) => ({ n })),
  ...[...strings, ...moreStrings].map((s) => ({ s, [s.slice(0, 40) || 'k']: 1 })),
  ...bytes.map((b) => ({ b, buf: Buffer.from(b) })),
  { 'größe 🎉': 1, '🎉': 2 },
  Object.fromEntries(Array.from({ length: MAX_FIELDS }, (_, i) => [`f${i}`, i])),
]

/** Decoding by hand takes ASCII strings only (others go to msgpackr). */
function asciiOnly(v: unknown): boolean {
  const json = JSON.stringify(v)
  return /^\p{ASCII}*$/u.test(json) && !json.includes('\\u')
}

const declined: unknown[] = [
  // msgpackr writes a lone surrogate of a short string as its own bytes, not as U+FFFD.
  { s: `a${lone}b` },
  { [lone]: 1 },
  { nested: { a: 1 } },
  { list: [1] },
  { u: undefined },
  { when: new Date(0) },
  { map: new Map([['a', 1]]) },
  { big: 1n },
  { view: new Uint16Array(2) },
  Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`f${i}`, i])),
  Object.assign(Object.create({ inherited: 1 }), { own: 1 }),
  new (class Point {
    x = 1
  })(),
]

describe('msgpack of flat objects by hand', () => {
  it('writes exactly the bytes msgpackr writes', () => {
    for (const v of flat) {
      const mine = encodeFlat(v)
      expect(mine, JSON.stringify(Object.keys(v))).toBeDefined()
      expect(Buffer.from(mine!).equals(Buffer.from(packr.pack(v)))).toBe(true)
      expect(Buffer.from(msgpackCodec.encode(v)).equals(Buffer.from(packr.pack(v)))).toBe(true)
    }
  })

  it('reads what msgpackr writes into the same values', () => {
    for (const v of flat) {
      const packed = packr.pack(v)
      const theirs = packr.unpack(packed)
      const mine = msgpackCodec.decode(packed) as Record<string, unknown>
      expect(mine).toEqual(theirs)
      // Not just msgpackr answering after the fast path declined:
      if (asciiOnly(v)) expect(decodeFast(packed)).toEqual(theirs)
      for (const k of Object.keys(theirs)) {
        expect(Buffer.isBuffer(mine[k])).toBe(Buffer.isBuffer(theirs[k]))
        expect(Object.is(mine[k], theirs[k]) || typeof mine[k] === 'object').toBe(true)
      }
    }
  })

  it('reads fixmap, str16 keys and every integer form written by other msgpack writers', () => {
    const variable = new Packr({ variableMapSize: true, useRecords: false, moreTypes: true })
    const sample = [...flat, { ['k'.repeat(300)]: -5 }]
    for (const v of sample) {
      const packed = variable.pack(v)
      const mine = decodeFast(packed)
      // Non-ASCII strings are left to msgpackr; everything else here is read by hand.
      if (!asciiOnly(v)) continue
      expect(mine).toBeDefined()
      expect(mine).toEqual(packr.unpack(packed))
    }
  })

  it('leaves everything else to msgpackr, which still round-trips it', () => {
    for (const v of declined) {
      expect(encodeFlat(v as object)).toBeUndefined()
      // The codec keeps Maps (its own extension); otherwise it reads back what msgpackr does.
      const expected = Object.hasOwn(v as object, 'map') ? v : packr.unpack(packr.pack(v))
      expect(msgpackCodec.decode(msgpackCodec.encode(v))).toEqual(expected)
    }
    // Decoding declines non-ASCII strings, nesting and __proto__ (msgpackr renames it).
    for (const v of [{ s: 'é' }, { nested: { a: 1 } }, JSON.parse('{"__proto__": 1}')]) {
      const packed = packr.pack(v)
      expect(decodeFast(packed)).toBeUndefined()
      expect(msgpackCodec.decode(packed)).toEqual(packr.unpack(packed))
    }
  })

  it('reads field names right through its name cache, whatever names share a slot', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}`)
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < names.length; i += 3) {
        const v = { [names[i]!]: i, [names[(i * 7) % names.length]!]: 'x', z: true }
        expect(decodeFast(packr.pack(v))).toEqual(v)
      }
    }
  })

  it('writes and reads names right when objects of other shapes alternate at each position', () => {
    const shapes = [{ ab: 1, cd: 2 }, { ab: 1, ce: 2 }, { '': 1, cd: 'x' }, { cd: 2 }, { größe: 1, cd: 2 }]
    for (let round = 0; round < 3; round++)
      for (const v of shapes) {
        const mine = msgpackCodec.encode(v)
        expect(Buffer.from(mine).equals(Buffer.from(packr.pack(v)))).toBe(true)
        expect(msgpackCodec.decode(mine)).toEqual(v)
      }
  })

  it('reads each field once, so a getter cannot change the size between passes', () => {
    let reads = 0
    const v = {
      get s() {
        reads++
        return 'x'.repeat(reads * 10)
      },
    }
    expect(msgpackCodec.decode(msgpackCodec.encode(v))).toEqual({ s: 'x'.repeat(10) })
    expect(reads).toBe(1)
  })

  it('rejects truncated or trailing input with CodecError', () => {
    const good = packr.pack({ a: 'xyz', b: new Uint8Array(3), c: 1.5, d: 300 })
    for (let cut = 1; cut < good.length; cut++) {
      expect(() => msgpackCodec.decode(good.subarray(0, cut))).toThrow(CodecError)
    }
    expect(decodeFast(Buffer.concat([good, Buffer.from([1])]))).toBeUndefined()
    expect(decodeFast(Buffer.from([0xde, 0x00]))).toBeUndefined()
  })
})

describe('msgpack of lone scalars by hand', () => {
  const scalars: unknown[] = [null, true, false, ...ints, ...moreInts, ...floats, ...strings, ...moreStrings]

  it('writes exactly the bytes msgpackr writes, and reads them back as msgpackr does', () => {
    for (const v of scalars) {
      const packed = Buffer.from(packr.pack(v))
      expect(Buffer.from(encodeScalar(v)!).equals(packed), String(v)).toBe(true)
      expect(Buffer.from(msgpackCodec.encode(v)).equals(packed)).toBe(true)
      const theirs = packr.unpack(packed)
      expect(Object.is(msgpackCodec.decode(packed), theirs) || Number.isNaN(theirs)).toBe(true)
      // Read by hand (not msgpackr answering after a decline), except non-ASCII strings.
      if (typeof v !== 'string' || [...v].every((c) => c.charCodeAt(0) < 0x80)) {
        const mine = decodeFast(packed)
        expect(Object.is(mine, theirs) || (Number.isNaN(mine) && Number.isNaN(theirs)), String(v)).toBe(true)
      }
    }
  })

  it('leaves undefined, bigints and arrays to msgpackr, and reading non-ASCII text too', () => {
    for (const v of [undefined, 10n, [1, 2], 'é']) {
      if (v !== 'é') expect(encodeScalar(v)).toBeUndefined()
      const packed = packr.pack(v)
      expect(decodeFast(packed)).toBeUndefined()
      expect(msgpackCodec.decode(msgpackCodec.encode(v))).toEqual(packr.unpack(packed))
    }
    // A scalar with trailing bytes is not one value.
    expect(() => msgpackCodec.decode(Uint8Array.of(0xc0, 0xc0))).toThrow(CodecError)
  })
})

describe('decodeFast views of owned input', () => {
  const big = Buffer.alloc(70_000, 7)
  const packed = packr.pack(big)

  it('copies by default, and views a large Buffer body only when asked', () => {
    const copy = decodeFast(packed) as Buffer
    expect(copy.equals(big)).toBe(true)
    expect(copy.buffer).not.toBe(packed.buffer)
    const view = decodeFast(packed, 64 * 1024) as Buffer
    expect(Buffer.isBuffer(view)).toBe(true)
    expect(view.equals(big)).toBe(true)
    expect(view.buffer).toBe(packed.buffer)
  })

  it('still copies small Buffers and every Uint8Array (msgpackr gives those their own memory)', () => {
    const small = packr.pack(Buffer.alloc(100, 1))
    expect((decodeFast(small, 64 * 1024) as Buffer).buffer).not.toBe(small.buffer)
    const typed = packr.pack(new Uint8Array(70_000).fill(3))
    const out = decodeFast(typed, 64 * 1024) as Uint8Array
    expect(out.constructor).toBe(Uint8Array)
    expect(out.buffer).not.toBe(typed.buffer)
    expect(out.every((b) => b === 3)).toBe(true)
  })
})

describe('decodeFast copies of bytes', () => {
  it('gives each decode its own bytes, of every size, for Buffers and Uint8Arrays', () => {
    for (const n of [0, 1, 31, 32, 63, 64, 65, 1000, 70_000]) {
      for (const value of [Buffer.alloc(n), new Uint8Array(n)]) {
        for (let i = 0; i < n; i++) value[i] = (i * 7) & 0xff
        // Inside a bigger buffer at an odd offset, as a frame's body is.
        const packed = packr.pack(value)
        const outer = Buffer.alloc(packed.length + 3)
        packed.copy(outer, 1)
        const input = outer.subarray(1, 1 + packed.length)
        const a = decodeFast(input) as Uint8Array
        const b = decodeFast(input) as Uint8Array
        expect(a.constructor).toBe(value.constructor === Uint8Array ? Uint8Array : Buffer)
        expect(Buffer.from(a).equals(Buffer.from(value))).toBe(true)
        if (n === 0) continue
        a[0] = (a[0] as number) ^ 0xff
        input.fill(0)
        expect(b[0]).toBe(value[0])
        expect(Buffer.from(b).equals(Buffer.from(value))).toBe(true)
      }
    }
  })
})

describe('decodeFast of small bytes (bin8, Uint8Array ext8)', () => {
  it('reads only a whole value of exactly that form, and leaves the rest to the general path', () => {
    for (const value of [Buffer.from([1, 2, 3]), Uint8Array.from([1, 2, 3])]) {
      const packed = Buffer.from(packr.pack(value))
      const frame = Buffer.concat([Buffer.from([0xee]), packed, Buffer.from([0xee])])
      expect(decodeMsgpack(frame, undefined, 1, 1 + packed.length)).toEqual(value)
      for (let end = 1; end < packed.length; end++)
        expect(() => decodeMsgpack(frame, undefined, 1, end)).toThrow(CodecError)
      expect(decodeFast(frame, undefined, 1, 2 + packed.length)).toBeUndefined()
      // An end past the input is never read.
      expect(decodeFast(packed, undefined, 0, packed.length + 1)).toBeUndefined()
    }
    // An ext8 of another type is no Uint8Array.
    expect(decodeFast(Buffer.from([0xc7, 0x02, 0x01, 0x01, 0x05]))).toBeUndefined()
    expect(decodeFast(Buffer.from([0xc7, 0x00, 0x74]))).toBeUndefined()
  })
})

describe('decoding a value in place, at an offset of a larger buffer (a frame body)', () => {
  it('reads what decoding the value alone reads, through the fast path and the fallback', () => {
    const values: unknown[] = [
      null,
      7,
      'text',
      Uint8Array.from([1, 2, 3]),
      Buffer.from([4, 5]),
      Buffer.alloc(300, 9),
      { a: 1, b: 'x' },
      { nested: { deeper: [1, 2, 3] } },
      [1, 'two', { three: 3 }],
    ]
    for (const value of values) {
      const alone = packr.pack(value)
      for (const head of [1, 5, 70]) {
        const frame = Buffer.concat([Buffer.alloc(head, 0xee), alone])
        const got = msgpackCodec.decode(alone)
        expect(decodeMsgpack(frame, undefined, head), JSON.stringify(value)).toEqual(got)
        // The same from a plain Uint8Array: a bin still comes back as a Buffer.
        const plain = new Uint8Array(frame.buffer, frame.byteOffset, frame.length)
        const fromPlain = decodeMsgpack(plain, undefined, head)
        expect(fromPlain).toEqual(got)
        if (Buffer.isBuffer(got)) expect(Buffer.isBuffer(fromPlain)).toBe(true)
      }
    }
  })
})
