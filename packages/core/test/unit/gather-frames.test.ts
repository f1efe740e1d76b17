import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { msgpackCodec } from '../../src/codec.js'
import {
  decodeInbox,
  decodeRequest,
  encodeBodyReply,
  encodeCommand,
  encodeInbox,
  encodeRequest,
  FrameKind,
  GatherBody,
} from '../../src/internal/frames.js'
import { BytesBody } from '../../src/internal/msgpack-flat.js'

const packr = new Packr({ useRecords: false })
const KiB = 1024

function join(data: Uint8Array | readonly Uint8Array[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data as Uint8Array[]) : Buffer.from(data as Uint8Array)
}

function filled(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

const request = {
  id: 70_000,
  method: 'frame.get',
  replyTo: 'c-abc',
  flags: 1,
  deadline: 1234,
  sender: 'cam',
  window: 0,
}

describe('gathered request and reply frames', () => {
  // Sizes around every msgpack header width (bin8/16/32, ext8/16/32) and the 64 KiB threshold.
  const sizes = [0, 200, 255, 256, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 1024 * KiB]

  it('a request with a GatherBody is parts whose concatenation is the frame a copied body makes', () => {
    for (const n of sizes) {
      for (const kind of ['bin', 'ext'] as const) {
        const bytes = kind === 'bin' ? filled(n, n) : new Uint8Array(filled(n, n))
        const parts = encodeRequest({ ...request, body: new GatherBody(bytes, kind) })
        const copied = encodeRequest({ ...request, body: new BytesBody(bytes, kind) })
        expect(Array.isArray(parts)).toBe(true)
        expect(copied).toBeInstanceOf(Uint8Array)
        const list = parts as readonly Uint8Array[]
        expect(list).toHaveLength(3)
        // The application's bytes themselves, not a copy.
        expect(list[1] === bytes).toBe(true)
        expect(join(parts).equals(copied as Buffer)).toBe(true)
        // And the body is what the codec makes of the value alone.
        const body = Buffer.from(decodeRequest(join(parts)).body)
        expect(body.equals(msgpackCodec.encode(bytes) as Buffer)).toBe(true)
      }
    }
  })

  it('a request whose encoded body is a GatherBody matches one with the encoded bytes', () => {
    const encoded = packr.pack({ frame: filled(100 * KiB, 3), n: 1 })
    const parts = encodeRequest({ ...request, body: new GatherBody(encoded) }) as readonly Uint8Array[]
    expect(parts[1] === encoded).toBe(true)
    expect(join(parts).equals(encodeRequest({ ...request, body: encoded }) as Buffer)).toBe(true)
  })

  it('a Result or Item with a GatherBody is [start, bytes] and matches the copied frame', () => {
    for (const kind of [FrameKind.Result, FrameKind.Item] as const) {
      for (const n of sizes) {
        const bytes = filled(n, 7)
        const parts = encodeBodyReply(kind, 42, new GatherBody(bytes, 'bin'))
        const copied = encodeBodyReply(kind, 42, new BytesBody(bytes, 'bin'))
        expect(parts).toHaveLength(2)
        expect((parts as readonly Uint8Array[])[1] === bytes).toBe(true)
        expect(join(parts).equals(copied as Buffer)).toBe(true)
        const f = decodeInbox(join(parts))
        expect(f.kind === kind && f.id === 42 && Buffer.from(f.body).equals(msgpackCodec.encode(bytes))).toBe(
          true,
        )
      }
    }
  })

  it('encoders that do not gather write a GatherBody whole, byte-identical to a copied body', () => {
    const bytes = filled(200 * KiB, 9)
    const gather = new GatherBody(bytes, 'bin')
    const copy = new BytesBody(bytes, 'bin')
    const inbox = encodeInbox({ kind: FrameKind.Result, id: 5, body: gather })
    expect(inbox).toBeInstanceOf(Uint8Array)
    expect(
      Buffer.from(inbox).equals(Buffer.from(encodeInbox({ kind: FrameKind.Result, id: 5, body: copy }))),
    ).toBe(true)
    const cmd = { id: 3, replyTo: 'c-1', deadline: 0, sender: 's' }
    expect(
      Buffer.from(encodeCommand({ ...cmd, body: gather })).equals(
        Buffer.from(encodeCommand({ ...cmd, body: copy })),
      ),
    ).toBe(true)
  })
})
