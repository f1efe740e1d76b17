import { describe, expect, it } from 'vitest'
import { hotFrame } from '../../src/hub/hot-frames.js'
import { encodeFrame } from '../../src/wire/frames.js'
import { decodeValue, type WireValue } from '../../src/wire/msgpack.js'
import { T } from '../../src/wire/protocol.js'

/** The body of a frame as the generic encoder writes it. */
const body = (fields: WireValue[]): Buffer => {
  const f = encodeFrame(fields)
  return Array.isArray(f) ? Buffer.concat([f[0], f[1]]).subarray(4) : f.subarray(4)
}

/** What the hub's fast reader makes of a body, copied out of the shared result object. */
const read = (b: Buffer) => {
  const f = hotFrame(b)
  return f && { ...f }
}

describe('hub hot frames', () => {
  it('reads Send, Publish and Enqueue as the generic decoder does, for every name length and binary size', () => {
    for (const name of ['a', 'hub:1234:5', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(255)])
      for (const n of [0, 1, 255, 256, 65_535, 65_536, 100_000]) {
        const data = new Uint8Array(n).map((_, i) => i * 7)
        for (const fields of [
          [T.Send, name, data],
          [T.Publish, name, data],
          [T.Enqueue, 70_000, name, data],
        ] as WireValue[][]) {
          const b = body(fields)
          const generic = decodeValue(b) as WireValue[]
          const f = read(b)
          expect(f?.type).toBe(generic[0])
          expect(f?.name).toBe(generic.at(-2))
          // Compared as buffers: element-wise equality of 100 kB arrays is slow.
          expect(f && Buffer.from(f.data).equals(generic.at(-1) as Uint8Array)).toBe(true)
          if (fields[0] === T.Enqueue) expect(f?.a).toBe(70_000)
        }
      }
  })

  it('reads Ack for every integer width', () => {
    for (const id of [1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1])
      for (const tag of [0, 200, 70_000, 4_000_000_000]) {
        const f = read(body([T.Ack, id, tag]))
        expect(f && [f.type, f.a, f.b]).toEqual([T.Ack, id, tag])
      }
  })

  it('a name seen before is the same string again, and a different one is read anew', () => {
    expect(read(body([T.Send, 'hub:1:2', Uint8Array.of(1)]))?.name).toBe('hub:1:2')
    expect(read(body([T.Send, 'hub:1:2', Uint8Array.of(2)]))?.name).toBe('hub:1:2')
    expect(read(body([T.Send, 'hub:1:3', Uint8Array.of(3)]))?.name).toBe('hub:1:3')
  })

  it('leaves everything else to the generic decoder', () => {
    const others: Buffer[] = [
      body([T.Send, 'héllo', Uint8Array.of(1)]), // not ASCII
      body([T.Send, 'to', 'not binary']),
      body([T.Send, 'to', Uint8Array.of(1), 'extra']),
      body([T.Ack, -1, 2]),
      body([T.Ack, 1, 2, 3]),
      body([T.Enqueue, 1, 7, Uint8Array.of(1)]),
      body([T.Push, 1, 'q', Uint8Array.of(1)]),
      body([T.Message, Uint8Array.of(1)]),
      Buffer.concat([body([T.Publish, 'c', Uint8Array.of(1)]), Buffer.of(0)]), // trailing byte
      body([T.Publish, 'c', Uint8Array.of(1, 2, 3)]).subarray(0, -1), // truncated
      Buffer.of(0x93, T.Send),
    ]
    for (const b of others) expect(hotFrame(b)).toBeUndefined()
  })
})
