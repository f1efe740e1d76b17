import { describe, expect, it } from 'vitest'
import { deliverFields, messageData, pushedRid, requestFields } from '../../src/client/hot-frames.js'
import { encodeFrame } from '../../src/wire/frames.js'
import type { WireValue } from '../../src/wire/msgpack.js'
import { T } from '../../src/wire/protocol.js'

/** The body of a frame as the generic encoder writes it. */
const body = (fields: WireValue[]): Uint8Array => {
  const f = encodeFrame(fields)
  return Array.isArray(f) ? Buffer.concat([f[0], f[1]]).subarray(4) : f.subarray(4)
}

describe('hot frames', () => {
  it('reads [Message, data] for every binary size', () => {
    for (const n of [0, 1, 255, 256, 65_535, 65_536, 100_000]) {
      const data = new Uint8Array(n).map((_, i) => i * 7)
      const read = messageData(body([T.Message, data]))
      expect(read && Uint8Array.from(read)).toEqual(data)
    }
  })

  it('reads [Request, serverId, tag, data] for every integer width', () => {
    for (const serverId of [1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1])
      for (const tag of [1, 200, 70_000, 4_000_000_000]) {
        const data = Uint8Array.of(1, 2, 3)
        const f = requestFields(body([T.Request, serverId, tag, data]))
        expect(f && { ...f, data: Uint8Array.from(f.data) }).toEqual({ serverId, tag, data })
      }
  })

  it('reads [Deliver, consumerId, tag, redelivered, data] for every integer width and both flags', () => {
    for (const consumerId of [1, 127, 128, 65_536, 2 ** 32 - 1])
      for (const tag of [1, 200, 70_000, 4_000_000_000])
        for (const redelivered of [false, true]) {
          const data = Uint8Array.of(9, 8, 7)
          const f = deliverFields(body([T.Deliver, consumerId, tag, redelivered, data]))
          expect(f && { ...f, data: Uint8Array.from(f.data) }).toEqual({ consumerId, tag, redelivered, data })
        }
  })

  it('reads [Pushed, rid] for every integer width', () => {
    for (const rid of [0, 1, 127, 128, 65_536, 4_000_000_000])
      expect(pushedRid(body([T.Pushed, rid]))).toBe(rid)
  })

  it('leaves everything else to the generic decoder', () => {
    expect(deliverFields(body([T.Deliver, 1, 2, 0, Uint8Array.of(1)]))).toBeUndefined()
    expect(deliverFields(body([T.Deliver, 1, 2, true, 'text']))).toBeUndefined()
    expect(deliverFields(body([T.Deliver, 1, 2, true]))).toBeUndefined()
    expect(deliverFields(body([T.Request, 1, 2, Uint8Array.of(1)]))).toBeUndefined()
    expect(pushedRid(body([T.Pushed, -1]))).toBe(-1)
    expect(pushedRid(body([T.Pushed, 1, 2]))).toBe(-1)
    expect(pushedRid(body([T.Dispatched, 1]))).toBe(-1)
    expect(messageData(body([T.Done, 1, 2]))).toBeUndefined()
    expect(messageData(body([T.Message, 'text']))).toBeUndefined()
    expect(messageData(body([T.Message, Uint8Array.of(1), 3]))).toBeUndefined()
    expect(requestFields(body([T.Request, -1, 2, Uint8Array.of(1)]))).toBeUndefined()
    expect(requestFields(body([T.Request, 1, 'x', Uint8Array.of(1)]))).toBeUndefined()
    expect(requestFields(body([T.Request, 1, 2, null]))).toBeUndefined()
    // Truncated: the binary claims more bytes than the body has.
    const whole = body([T.Message, new Uint8Array(300)])
    expect(messageData(whole.subarray(0, 200))).toBeUndefined()
    expect(requestFields(body([T.Request, 1, 2, Uint8Array.of(1)]).subarray(0, 5))).toBeUndefined()
  })
})
