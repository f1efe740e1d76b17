import { createServer, connect as netConnect, type Socket } from 'node:net'
import { tempDir } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'
import { encodeFrame, encodeGathered, FrameReader, fieldsSize } from '../../src/wire/frames.js'
import { sizeOf, type WireValue } from '../../src/wire/msgpack.js'
import { joined, Parts, payloadOf } from '../../src/wire/parts.js'
import { FrameWriter } from '../../src/wire/writer.js'
import { keeper } from './keeper-socket.js'

const KiB = 1024

function filled(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff
  return b
}

const flat = (f: Buffer | readonly Uint8Array[]): Buffer =>
  Array.isArray(f) ? Buffer.concat(f as Uint8Array[]) : (f as Buffer)

/** Core-like parts: a small start, a large body, an optional small end. */
function partsOf(n: number, seed: number, end = true): Uint8Array[] {
  const list = [filled(23, seed), filled(n, seed + 1)]
  if (end) list.push(filled(40, seed + 2))
  return list
}

describe('messages in parts', () => {
  it('encode as the frame of the joined message, the large parts themselves queued, not copied', () => {
    for (const n of [0, 64 * KiB - 1, 64 * KiB, 70_000, 1024 * KiB]) {
      for (const end of [true, false]) {
        for (const fields of [[55, 3, 70_000], [50, 'c-abc'], [43]] as WireValue[][]) {
          const list = partsOf(n, n % 251, end)
          const whole = Buffer.concat(list)
          const gathered = encodeGathered([...fields, new Parts(list)])
          expect(flat(gathered).equals(flat(encodeFrame([...fields, whole])))).toBe(true)
          // The small first part is merged into the frame's start; the body is queued as it is.
          expect(gathered[1] === list[1]).toBe(true)
          expect(fieldsSize([...fields, new Parts(list)])).toBe(sizeOf([...fields, whole]))
        }
      }
    }
  })

  it('payloadOf and joined keep a single array as it is and join parts', () => {
    const one = filled(10, 1)
    expect(payloadOf(one)).toBe(one)
    const list = partsOf(100, 2)
    const p = payloadOf(list)
    expect(p).toBeInstanceOf(Parts)
    expect((p as Parts).length).toBe(163)
    expect(Buffer.from(joined(p)).equals(Buffer.concat(list))).toBe(true)
  })

  it('the writer puts a gathered frame between slab frames in order', async () => {
    const { socket, written } = keeper()
    const w = new FrameWriter(socket)
    const list = partsOf(200 * KiB, 5)
    w.sendFields([56, 1])
    w.sendFields([55, 1, 2, new Parts(list)])
    w.sendFields([56, 2])
    await new Promise((r) => setImmediate(r))
    const expected = Buffer.concat([
      flat(encodeFrame([56, 1])),
      flat(encodeFrame([55, 1, 2, Buffer.concat(list)])),
      flat(encodeFrame([56, 2])),
    ])
    expect(Buffer.concat(written).equals(expected)).toBe(true)
    expect(written.some((c) => c === list[1])).toBe(true)
  })

  it('a reader at the other end of a real socket gets the joined frames', async () => {
    const dir = tempDir('unipc-parts-')
    const path = `${dir.path}/s.sock`
    const bodies: Buffer[] = []
    let resolve: () => void = () => {}
    const done = new Promise<void>((r) => {
      resolve = r
    })
    const reader = new FrameReader(64 * 1024 * 1024, {
      frame: (b) => {
        bodies.push(Buffer.from(b))
        if (bodies.length === 4) resolve()
      },
      error: (err) => {
        throw err
      },
    })
    const server = createServer((s) => s.on('data', (c: Buffer) => reader.push(c)))
    await new Promise<void>((r) => server.listen(path, r))
    const socket: Socket = netConnect(path)
    await new Promise((r) => socket.once('connect', r))
    const w = new FrameWriter(socket)
    const sent = [partsOf(1024 * KiB, 1), partsOf(64 * KiB, 2, false), partsOf(3 * 1024 * KiB, 3)]
    for (const [i, list] of sent.entries()) w.sendFields([55, i, new Parts(list)])
    w.sendFields([56, 9])
    await done
    socket.destroy()
    await new Promise((r) => server.close(r))
    dir.cleanup()
    for (const [i, list] of sent.entries())
      expect(
        Buffer.from(bodies[i] as Buffer).equals(flat(encodeFrame([55, i, Buffer.concat(list)])).subarray(4)),
      ).toBe(true)
    expect(Buffer.from(bodies[3] as Buffer).equals(flat(encodeFrame([56, 9])).subarray(4))).toBe(true)
  })
})
