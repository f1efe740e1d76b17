import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../src/wire/frames.js'
import type { WireValue } from '../../src/wire/msgpack.js'
import { FrameWriter } from '../../src/wire/writer.js'
import { keeper } from './keeper-socket.js'

const bytes = (f: Buffer | [Buffer, Uint8Array]): Buffer => (Array.isArray(f) ? Buffer.concat(f) : f)
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('FrameWriter', () => {
  it('writes fields encoded in its slab exactly as encodeFrame encodes them, in order with ready frames', async () => {
    const { socket, written } = keeper()
    const w = new FrameWriter(socket)
    const frames: WireValue[][] = [
      [51, Uint8Array.of(1, 2, 3)],
      [56, 1, 2, 3],
      [55, 7, 70_000, new Uint8Array(20_000).fill(9)],
      [50, 'to', new Uint8Array(5000).fill(4)],
    ]
    w.sendFields(frames[0] as WireValue[])
    w.sendFields(frames[1] as WireValue[])
    w.sendFields(frames[2] as WireValue[])
    w.send(encodeFrame([60, 4]))
    w.sendFields(frames[3] as WireValue[])
    expect(w.buffered).toBeGreaterThan(25_000)
    await tick()
    const expected = Buffer.concat(
      [...frames.slice(0, 3), [60, 4], frames[3]].map((f) => bytes(encodeFrame(f as WireValue[]))),
    )
    expect(Buffer.concat(written)).toEqual(expected)
  })

  it('never reuses bytes it handed to the socket, across many flushes and slabs', async () => {
    const { socket, written } = keeper()
    const w = new FrameWriter(socket)
    const expected: Buffer[] = []
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 1 + (round % 7); i++) {
        const f: WireValue[] = [51, new Uint8Array(50 + ((round * 31 + i) % 900)).fill(round & 0xff)]
        w.sendFields(f)
        expected.push(bytes(encodeFrame(f)))
      }
      await tick()
    }
    expect(Buffer.concat(written)).toEqual(Buffer.concat(expected))
  })

  it('drops what is queued on clear', async () => {
    const { socket, written } = keeper()
    const w = new FrameWriter(socket)
    w.sendFields([51, Uint8Array.of(1)])
    w.clear()
    w.sendFields([51, Uint8Array.of(2)])
    await tick()
    expect(Buffer.concat(written)).toEqual(bytes(encodeFrame([51, Uint8Array.of(2)])))
  })
})
