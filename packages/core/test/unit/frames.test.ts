import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/index.js'
import {
  decodeCommand,
  decodeInbox,
  decodeRequest,
  encodeCommand,
  encodeInbox,
  encodeRequest,
  FrameKind,
  type InboxFrame,
  ItemsWriter,
  readBinAt,
  scanItems,
} from '../../src/internal/frames.js'

const packr = new Packr({ useRecords: false })
const body = Buffer.from([1, 2, 3]) // msgpackr decodes binary as Buffer (a Uint8Array)

describe('core frames', () => {
  it('round-trips a command frame', () => {
    const f = { id: 7, body, replyTo: 'inbox-1', deadline: 123, sender: 'cam' }
    expect(decodeCommand(encodeCommand(f))).toEqual({ kind: FrameKind.Command, ...f })
  })

  it('round-trips a request frame', () => {
    const f = { id: 9, method: 'add', body, replyTo: 'i', flags: 3, deadline: 0, sender: '', window: 256 }
    expect(decodeRequest(encodeRequest(f))).toEqual({ kind: FrameKind.Request, ...f })
  })

  it('appends byte credit to a stream request, after the fields older peers read', () => {
    const f = {
      id: 9,
      method: 'feed',
      body,
      replyTo: 'i',
      flags: 3,
      deadline: 0,
      sender: '',
      window: 256,
      windowBytes: 524_288,
      windowItems: 8192,
    }
    const bytes = encodeRequest(f)
    expect(decodeRequest(bytes)).toEqual({ kind: FrameKind.Request, ...f })
    expect(packr.unpack(bytes)).toEqual([
      FrameKind.Request,
      9,
      'feed',
      body,
      'i',
      3,
      0,
      '',
      256,
      524_288,
      8192,
    ])
    // Without byte credit the frame is what older versions write: 9 fields.
    const old = encodeRequest({ ...f, windowBytes: 0 })
    expect(packr.unpack(old)).toHaveLength(9)
    expect(decodeRequest(old)).toMatchObject({ window: 256, windowBytes: undefined, windowItems: undefined })
    expect(() =>
      decodeRequest(packr.pack([FrameKind.Request, 1, 'm', body, 'r', 0, 0, 's', 4, -1, 8])),
    ).toThrow(ProtocolError)
  })

  it('round-trips the byte fields of Accepted and Credit, and reads their older forms', () => {
    const accepted = { kind: FrameKind.Accepted, id: 4, server: 'srv', windowBytes: 65_536 } as const
    const credit = { kind: FrameKind.Credit, id: 7, caller: 'c', credit: 10, bytes: 70_000 } as const
    expect(decodeInbox(encodeInbox(accepted))).toEqual(accepted)
    expect(decodeInbox(encodeInbox(credit))).toEqual(credit)
    expect(packr.unpack(encodeInbox(credit))).toEqual([FrameKind.Credit, 7, 'c', 10, 70_000])
    expect(decodeInbox(packr.pack([FrameKind.Accepted, 4, 'srv']))).toMatchObject({ windowBytes: undefined })
    expect(decodeInbox(packr.pack([FrameKind.Credit, 7, 'c', 10]))).toMatchObject({
      credit: 10,
      bytes: undefined,
    })
    expect(() => decodeInbox(packr.pack([FrameKind.Credit, 7, 'c', 10, -5]))).toThrow(ProtocolError)
  })

  it('writes several stream items as one Items frame that general msgpack decoders read', () => {
    const w = new ItemsWriter(300)
    const bodies = [Buffer.from([1]), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.alloc(70_000, 9)]
    for (const b of bodies) w.add(b)
    expect(w.count).toBe(4)
    const frame = w.take() as Buffer
    expect(w.take()).toBeUndefined()
    expect(packr.unpack(frame)).toEqual([FrameKind.Items, 300, ...bodies])
    const scan = { id: 0, count: 0, pos: 0 }
    expect(scanItems(frame, scan)).toBe(true)
    expect(scan).toMatchObject({ id: 300, count: 4 })
    const span = { start: 0, end: 0 }
    let pos = scan.pos
    for (const b of bodies) {
      expect(readBinAt(frame, pos, span)).toBe(true)
      expect(frame.subarray(span.start, span.end).equals(b)).toBe(true)
      pos = span.end
    }
    expect(pos).toBe(frame.length)
    // A bin claiming more bytes than the frame holds, and other frames, are not read as items.
    expect(readBinAt(Uint8Array.from([0xc5, 0xff, 0xff, 1]), 0, span)).toBe(false)
    expect(scanItems(encodeInbox({ kind: FrameKind.Item, id: 1, body }), scan)).toBe(false)
  })

  it('round-trips every inbox frame kind', () => {
    const frames: InboxFrame[] = [
      { kind: FrameKind.Result, id: 1, body },
      { kind: FrameKind.Item, id: 2, body },
      { kind: FrameKind.Error, id: 3, error: { name: 'E', message: 'm', code: 'C', data: { x: 1 } } },
      { kind: FrameKind.Accepted, id: 4, server: 'srv' },
      { kind: FrameKind.End, id: 5 },
      { kind: FrameKind.Cancel, id: 6, caller: 'c' },
      { kind: FrameKind.Credit, id: 7, caller: 'c', credit: 10 },
    ]
    for (const f of frames) expect(decodeInbox(encodeInbox(f))).toEqual(f)
  })

  it('rejects bytes that are not msgpack', () => {
    expect(() => decodeInbox(Uint8Array.from([0x93, 0x01]))).toThrow(ProtocolError)
    expect(() => decodeCommand(new Uint8Array(0))).toThrow(ProtocolError)
  })

  it('rejects msgpack that is not a frame array', () => {
    for (const v of [42, 'str', { kind: 1 }, [1]])
      expect(() => decodeInbox(packr.pack(v))).toThrow(ProtocolError)
  })

  it('rejects frames with a wrong kind, a bad id or mistyped fields', () => {
    const bad = [
      [FrameKind.Request, 1, body, 'r', 0, 's'], // a request kind where a command is expected
      [FrameKind.Command, -1, body, 'r', 0, 's'], // negative id
      [FrameKind.Command, 1.5, body, 'r', 0, 's'], // fractional id
      [FrameKind.Command, 1, 'not bytes', 'r', 0, 's'],
      [FrameKind.Command, 1, body, 42, 0, 's'],
      [FrameKind.Command, 1, body, 'r', Number.NaN, 's'],
      [FrameKind.Command, 1, body, 'r', 0],
    ]
    for (const f of bad) expect(() => decodeCommand(packr.pack(f)), JSON.stringify(f)).toThrow(ProtocolError)
    expect(() => decodeRequest(packr.pack([FrameKind.Request, 1, 'm', body, 'r', 0, 0, 's', -5]))).toThrow(
      ProtocolError,
    )
  })

  it('rejects inbox frames of unknown kinds or with mistyped payloads', () => {
    const bad = [
      [99, 1, body],
      [FrameKind.Result, 1, 'text'],
      [FrameKind.Error, 1, { name: 1, message: 'm' }],
      [FrameKind.Error, 1, 'boom'],
      [FrameKind.Accepted, 1, 5],
      [FrameKind.Credit, 1, 'c', -1],
      [FrameKind.Cancel, 'x', 'c'],
    ]
    for (const f of bad) expect(() => decodeInbox(packr.pack(f)), JSON.stringify(f)).toThrow(ProtocolError)
  })

  it('reads frames written by a general msgpack encoder, and writes frames it reads the same', () => {
    // msgpackr writes an epoch-ms deadline as a float64 and may pick other integer widths.
    const deadline = 1_790_000_000_123
    const req = [FrameKind.Request, 70_000, 'svc.add', body, 'socket:ab12', 1, deadline, 'cam', 256]
    const fields = {
      id: 70_000,
      method: 'svc.add',
      body,
      replyTo: 'socket:ab12',
      flags: 1,
      deadline,
      sender: 'cam',
      window: 256,
    }
    expect(decodeRequest(packr.pack(req))).toEqual({ kind: FrameKind.Request, ...fields })
    expect(packr.unpack(encodeRequest(fields))).toEqual(req)
    const cmd = { id: 70_000, body, replyTo: 'socket:ab12', deadline, sender: 'cäm' }
    expect(packr.unpack(encodeCommand(cmd))).toEqual([
      FrameKind.Command,
      70_000,
      body,
      'socket:ab12',
      deadline,
      'cäm',
    ])
    expect(packr.unpack(encodeInbox({ kind: FrameKind.Result, id: 1, body }))).toEqual([
      FrameKind.Result,
      1,
      body,
    ])
    const err = { kind: FrameKind.Error, id: 3, error: { name: 'E', message: 'ünïcode', code: 'C' } } as const
    expect(packr.unpack(encodeInbox(err))).toEqual([FrameKind.Error, 3, err.error])
  })

  it('accepts frames with fields appended by a newer peer', () => {
    const f = decodeCommand(packr.pack([FrameKind.Command, 1, body, 'r', 0, 's', 'future', [1, 2]]))
    expect(f).toEqual({ kind: FrameKind.Command, id: 1, body, replyTo: 'r', deadline: 0, sender: 's' })
    expect(decodeInbox(packr.pack([FrameKind.End, 4, 'future']))).toEqual({ kind: FrameKind.End, id: 4 })
  })

  it('rejects truncated frames and lengths the bytes cannot hold, without allocating them', () => {
    const good = encodeRequest({
      id: 1,
      method: 'm',
      body,
      replyTo: 'r',
      flags: 0,
      deadline: 0,
      sender: '',
      window: 0,
    })
    for (let cut = 0; cut < good.length; cut++)
      expect(() => decodeRequest(good.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtocolError)
    // An array header claiming 2^32-1 elements, and a bin claiming 4 GiB, in a few bytes.
    expect(() => decodeInbox(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 3, 1]))).toThrow(ProtocolError)
    expect(() => decodeInbox(Uint8Array.from([0x93, 3, 1, 0xc6, 0xff, 0xff, 0xff, 0xff, 0]))).toThrow(
      ProtocolError,
    )
    // Trailing garbage after a frame of exactly the known length.
    expect(() =>
      decodeInbox(Buffer.concat([encodeInbox({ kind: FrameKind.End, id: 1 }), Buffer.from([0])])),
    ).toThrow(ProtocolError)
  })

  it('reads Result and Item frames of every id and body length form, from a Buffer or a Uint8Array', () => {
    // These two kinds are read by hand (every answer and stream item); other writers' forms too.
    const ids = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]
    const bodies = [0, 1, 255, 256, 65_535, 65_536].map((n) => Buffer.alloc(n, n & 0xff))
    for (const kind of [FrameKind.Result, FrameKind.Item] as const) {
      for (const id of ids) {
        for (const b of bodies) {
          const ours = encodeInbox({ kind, id, body: b })
          const theirs = packr.pack([kind, id, b])
          for (const bytes of [ours, theirs, new Uint8Array(theirs)]) {
            const f = decodeInbox(bytes) as { kind: number; id: number; body: Buffer }
            expect([f.kind, f.id]).toEqual([kind, id])
            // A Buffer (codecs may rely on it), equal to the body (deep equality is slow at 64 KiB).
            expect(Buffer.isBuffer(f.body) && f.body.equals(b)).toBe(true)
          }
        }
      }
    }
  })

  it('rejects every truncation of a Result or Item frame, and trailing bytes, with ProtocolError', () => {
    for (const id of [5, 200, 60_000, 2 ** 31]) {
      for (const n of [0, 3, 300, 70_000]) {
        const good = encodeInbox({ kind: FrameKind.Item, id, body: Buffer.alloc(n, 1) })
        const cuts = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, good.length - 2, good.length - 1])
        for (const cut of cuts)
          if (cut >= 0 && cut < good.length)
            expect(() => decodeInbox(good.subarray(0, cut)), `id ${id} body ${n} cut ${cut}`).toThrow(
              ProtocolError,
            )
        expect(() => decodeInbox(Buffer.concat([good, Buffer.from([0])]))).toThrow(ProtocolError)
      }
    }
    // A negative id, a string body: rejected by the general reader.
    expect(() => decodeInbox(packr.pack([FrameKind.Item, -1, body]))).toThrow(ProtocolError)
    expect(() => decodeInbox(packr.pack([FrameKind.Result, 1, 'not bytes']))).toThrow(ProtocolError)
    // Appended fields are still accepted.
    expect(decodeInbox(packr.pack([FrameKind.Item, 1, body, 'future']))).toEqual({
      kind: FrameKind.Item,
      id: 1,
      body,
    })
  })
})
