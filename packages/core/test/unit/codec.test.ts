import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { CodecError, jsonCodec, msgpackCodec, resolveCodec } from '../../src/index.js'

const roundTrip = (v: unknown): unknown => msgpackCodec.decode(msgpackCodec.encode(v))

describe('msgpack codec', () => {
  it('keeps Date, Map, Set, BigInt and binary through a round trip', () => {
    const value = {
      when: new Date('2024-01-02T03:04:05.678Z'),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, 'two'],
      ]),
      set: new Set([1, 'x']),
      big: -(2n ** 80n),
      bytes: Uint8Array.from([0, 1, 254, 255]),
    }
    const back = roundTrip(value) as typeof value
    expect(back).toEqual(value)
    expect(back.map).toBeInstanceOf(Map)
    expect(back.set).toBeInstanceOf(Set)
    expect(back.bytes).toBeInstanceOf(Uint8Array)
  })

  it('keeps Maps nested in arrays, Sets and other Maps', () => {
    const value = [new Set([new Map([['k', new Map([[1, [new Map()]]])]])])]
    const back = roundTrip(value)
    expect(back).toEqual(value)
  })

  it('leaves the input unchanged when it tags Maps', () => {
    const inner = new Map([['a', 1]])
    const value = { list: [inner], plain: { x: 1 } }
    msgpackCodec.encode(value)
    expect(value.list[0]).toBe(inner)
  })

  it('decodes undefined, null, floats and unicode strings', () => {
    for (const v of [undefined, null, 0.5, -1.25e300, 'größe 大 🎉', '', [], {}])
      expect(roundTrip(v)).toEqual(v)
  })

  it('rejects truncated msgpack with a CodecError', () => {
    // An array header announcing two elements followed by only one.
    expect(() => msgpackCodec.decode(Uint8Array.from([0x92, 0x01]))).toThrow(CodecError)
    // A 4 GiB binary header with no bytes after it: refused, not allocated.
    expect(() => msgpackCodec.decode(Uint8Array.from([0xc6, 0xff, 0xff, 0xff, 0xff]))).toThrow(CodecError)
  })

  it('writes and reads bytes-only payloads exactly as msgpackr does, at every length width', () => {
    const reference = new Packr({ moreTypes: true, useRecords: false, useBigIntExtension: true })
    for (const n of [0, 1, 200, 254, 255, 256, 65_534, 65_535, 65_536, 70_000]) {
      const u8 = Uint8Array.from({ length: n }, (_, i) => i & 0xff)
      const buf = Buffer.from(u8)
      for (const v of [u8, buf]) {
        const bytes = msgpackCodec.encode(v)
        expect(Buffer.from(bytes).equals(reference.pack(v)), `${v.constructor.name} of ${n}`).toBe(true)
        const back = msgpackCodec.decode(bytes) as Uint8Array
        expect(back.constructor, `${v.constructor.name} of ${n}`).toBe(v.constructor)
        expect(Buffer.from(back).equals(buf)).toBe(true)
        expect(reference.unpack(bytes)).toEqual(v)
        // A copy: the decoded value does not alias the transport's bytes.
        if (n > 0) {
          bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff
          expect(back[n - 1]).toBe((n - 1) & 0xff)
        }
      }
    }
    // Other typed arrays and a Uint8Array inside a value still go through msgpackr.
    expect(msgpackCodec.decode(msgpackCodec.encode(new Float32Array([1.5])))).toEqual(new Float32Array([1.5]))
    expect(msgpackCodec.decode(msgpackCodec.encode({ b: new Uint8Array([9]) }))).toEqual({
      b: new Uint8Array([9]),
    })
  })

  it('rejects truncated bytes-only payloads with a CodecError', () => {
    const bytes = msgpackCodec.encode(new Uint8Array(300))
    for (const cut of [1, 2, 3, 4, 299])
      expect(() => msgpackCodec.decode(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(CodecError)
  })

  it('rejects a malformed Map extension with a CodecError', () => {
    // fixext 1 of the Map extension type 0x75 whose payload is the integer 1, not an entry list.
    expect(() => msgpackCodec.decode(Uint8Array.from([0xd4, 0x75, 0x01]))).toThrow(CodecError)
  })
})

describe('json codec', () => {
  it('round-trips plain values and encodes undefined as null', () => {
    const v = { a: [1, 'two', { three: true }], b: null }
    expect(jsonCodec.decode(jsonCodec.encode(v))).toEqual(v)
    expect(jsonCodec.decode(jsonCodec.encode(undefined))).toBeNull()
  })

  it('rejects invalid UTF-8 and invalid JSON with a CodecError', () => {
    expect(() => jsonCodec.decode(Uint8Array.from([0xff, 0xfe]))).toThrow(CodecError)
    expect(() => jsonCodec.decode(new TextEncoder().encode('{nope'))).toThrow(CodecError)
  })

  it('fails to encode a BigInt with a CodecError', () => {
    expect(() => jsonCodec.encode({ n: 1n })).toThrow(CodecError)
  })
})

describe('resolveCodec', () => {
  it('picks codecs by name and accepts custom ones', () => {
    expect(resolveCodec(undefined)).toBe(msgpackCodec)
    expect(resolveCodec('json')).toBe(jsonCodec)
    const custom = { name: 'id', encode: (v: unknown) => v as Uint8Array, decode: (b: Uint8Array) => b }
    expect(resolveCodec(custom)).toBe(custom)
  })

  it('rejects an object without encode and decode', () => {
    expect(() => resolveCodec({ name: 'broken' } as never)).toThrow(CodecError)
  })
})
