/**
 * The envelope msgpack: every integer, string, binary and array width it writes must read back
 * the same, must be what a general msgpack decoder (msgpackr) reads, and hostile input must fail
 * with a ProtocolError, never with a crash or a huge allocation.
 */
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/index.js'
import { decodeValue, encodeValue, type WireValue } from '../../src/wire-msgpack.js'

const msgpackr = new Packr({ useRecords: false, int64AsType: 'number' })

const ints = [
  0,
  1,
  127,
  128,
  255,
  256,
  65_535,
  65_536,
  2 ** 32 - 1,
  2 ** 32,
  1_790_000_000_123,
  Number.MAX_SAFE_INTEGER,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32_768,
  -32_769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  Number.MIN_SAFE_INTEGER,
]
const strings = [
  '',
  'a',
  'x'.repeat(31),
  'x'.repeat(32),
  'é',
  'ünïcødé ✓',
  'y'.repeat(255),
  'z'.repeat(256),
  'w'.repeat(70_000),
]
const bins = [0, 1, 255, 256, 65_535, 65_536].map((n) => Buffer.alloc(n, 7))

describe('wire msgpack', () => {
  it('round-trips every width, and msgpackr reads what it writes', () => {
    const values: WireValue[] = [
      ...ints,
      ...strings,
      ...bins,
      null,
      true,
      false,
      [],
      [1, ['a', [Buffer.from([1])]]],
      Array.from({ length: 20 }, (_, i) => i),
    ]
    for (const v of values) {
      const bytes = encodeValue(v)
      expect(decodeValue(bytes), JSON.stringify(v)?.slice(0, 40)).toEqual(v)
      expect(msgpackr.unpack(bytes), JSON.stringify(v)?.slice(0, 40)).toEqual(v)
    }
  })

  it('reads integers written by msgpackr, including large ones written as floats', () => {
    for (const v of ints) expect(decodeValue(msgpackr.pack(v)), String(v)).toBe(v)
  })

  it('refuses floats, maps, extensions, deep nesting, truncation and trailing bytes', () => {
    const bad: Uint8Array[] = [
      msgpackr.pack(1.5),
      msgpackr.pack({ a: 1 }),
      msgpackr.pack(new Date(0)),
      Uint8Array.from([0x91, 0x91, 0x91, 0x91, 0x91, 0x90]),
      Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
      Uint8Array.from([0xc6, 0xff, 0xff, 0xff, 0xff, 1]),
      Uint8Array.from([0xa5, 0x61]),
      Uint8Array.from([0x01, 0x02]),
      new Uint8Array(0),
    ]
    for (const b of bad) expect(() => decodeValue(b), Buffer.from(b).toString('hex')).toThrow(ProtocolError)
  })
})
