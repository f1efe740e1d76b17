import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, ProtocolError } from '../../src/index.js'
import {
  decodeRequest,
  encodeBodyReply,
  encodeBytesReply,
  encodeRequest,
  FrameKind,
} from '../../src/internal/frames.js'
import { BytesBody, encodeFlat, pendingFlat } from '../../src/internal/msgpack-flat.js'
import { readRequest } from '../../src/internal/request-reader.js'
import { RequestWriter } from '../../src/internal/request-writer.js'

const packr = new Packr({ useRecords: false })
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff))

/** What a server reads of a frame: the fields, and the body's bytes. */
function read(frame: Uint8Array) {
  const f = readRequest(frame)
  const { src, bodyStart, bodyEnd, ...fields } = f
  return { ...fields, body: Buffer.from(src.subarray(bodyStart, bodyEnd)) }
}

function decoded(frame: Uint8Array) {
  const d = decodeRequest(frame)
  return { ...d, body: Buffer.from(d.body) }
}

const cases = [
  { id: 1, method: 'echo', replyTo: 'inbox-1', sender: '', flags: 0, deadline: 0, body: bytes(64) },
  {
    id: 200,
    method: 'a'.repeat(40),
    replyTo: `shm-${'x'.repeat(60)}`,
    sender: 'cam',
    flags: 1,
    deadline: Date.now() + 30_000,
    body: bytes(0),
  },
  { id: 70_000, method: 'añadir', replyTo: 'ü', sender: 'kamera', flags: 0, deadline: 5, body: bytes(300) },
  {
    id: 2 ** 33,
    method: 'm',
    replyTo: 'r',
    sender: 's'.repeat(200),
    flags: 0,
    deadline: 0,
    body: bytes(70_000),
  },
]

describe('unary request frames', () => {
  it('are written byte for byte as encodeRequest writes them, whatever the body form', () => {
    const w = new RequestWriter('')
    for (const c of cases) {
      const sender = new RequestWriter(c.sender)
      for (const body of [
        c.body,
        new BytesBody(new Uint8Array(c.body), 'ext'),
        new BytesBody(c.body, 'bin'),
      ]) {
        const fast = sender.encode(
          c.method,
          sender.method(c.method),
          c.id,
          body,
          c.replyTo,
          c.flags,
          c.deadline,
        )
        const general = encodeRequest({ ...c, body, window: 0 })
        expect(Buffer.from(fast as Uint8Array).equals(general as Uint8Array)).toBe(true)
      }
    }
    // Bytes written by the frame itself, as the codec would write them alone.
    for (const c of cases) {
      const sender = new RequestWriter(c.sender)
      for (const raw of [c.body, new Uint8Array(c.body)]) {
        const form = raw instanceof Buffer ? 'bin' : 'ext'
        const m = sender.method(c.method)
        const fast = sender.encode(c.method, m, c.id, raw, c.replyTo, c.flags, c.deadline, form)
        const general = encodeRequest({ ...c, body: new BytesBody(raw, form), window: 0 })
        expect(Buffer.from(fast as Uint8Array).equals(general as Uint8Array)).toBe(true)
      }
    }
    // The reply address may change between calls (a transport that reconnects).
    const a = w.encode('m', w.method('m'), 1, bytes(3), 'one', 0, 0)
    const b = w.encode('m', w.method('m'), 1, bytes(3), 'two', 0, 0)
    expect(decodeRequest(a as Uint8Array).replyTo).toBe('one')
    expect(decodeRequest(b as Uint8Array).replyTo).toBe('two')
  })

  it('are right for each call of one writer as the deadline, flags and reply address change', () => {
    const w = new RequestWriter('cam')
    const far = Date.now() + 30_000
    const calls = [
      { deadline: 0, flags: 0, replyTo: 'in-1' },
      { deadline: far, flags: 0, replyTo: 'in-1' },
      { deadline: far, flags: 0, replyTo: 'in-1' },
      { deadline: far + 1, flags: 0, replyTo: 'in-1' },
      { deadline: far + 1, flags: 1, replyTo: 'in-1' },
      { deadline: far + 2, flags: 0, replyTo: 'in-1' },
      { deadline: 200, flags: 0, replyTo: 'in-1' },
      { deadline: 70_000, flags: 0, replyTo: 'in-1' },
      { deadline: 70_001, flags: 0, replyTo: 'in-22' },
      { deadline: 0, flags: 0, replyTo: 'in-22' },
    ]
    const frames = calls.map((c, id) => {
      const frame = w.encode('m', w.method('m'), id, bytes(5), c.replyTo, c.flags, c.deadline)
      return { frame: frame as Uint8Array, copy: Buffer.from(frame as Uint8Array) }
    })
    frames.forEach(({ frame, copy }, id) => {
      const c = calls[id]!
      const general = encodeRequest({ id, method: 'm', body: bytes(5), sender: 'cam', window: 0, ...c })
      expect(copy.equals(general)).toBe(true)
      // A frame handed out keeps its bytes whatever the writer writes later.
      expect(Buffer.from(frame).equals(copy)).toBe(true)
    })
  })

  it('check a method name the first time they see it', () => {
    const w = new RequestWriter('')
    expect(() => w.method('bad name')).toThrow(InvalidArgumentError)
    expect(() => w.method('')).toThrow(InvalidArgumentError)
    expect(() => w.method(undefined as unknown as string)).toThrow(InvalidArgumentError)
  })

  it('are read as decodeRequest reads them, in the usual form and any other', () => {
    const frames: Uint8Array[] = []
    for (const c of cases) frames.push(encodeRequest({ ...c, window: 0 }))
    // A stream request with byte credit (array of 11).
    frames.push(
      encodeRequest({ ...cases[0]!, flags: 7, window: 256, windowBytes: 512 * 1024, windowItems: 8192 }),
    )
    // Hand-written frames of an older peer or another writer: msgpackr's forms of the same fields.
    frames.push(packr.pack([2, 9, 'add', bytes(3), 'inbox', 0, Date.now() + 1000, '', 0]))
    frames.push(packr.pack([2, 9, 'add', bytes(3), 'inbox', 3, 1_700_000_000_000, 'cam', 256]))
    // A newer peer's frame with a field appended that this version does not know.
    frames.push(packr.pack([2, 9, 'add', bytes(3), 'inbox', 0, 0, '', 0, 10, 20, 'future']))
    for (const frame of frames) expect(read(frame)).toEqual(decoded(frame))
    // The usual form is read in place (the general decoder's body would be a view of its own).
    expect(readRequest(frames[0]!).src).toBe(frames[0])
  })

  it('read into one reused object give each frame its own fields, whatever was read before', () => {
    const frames: Uint8Array[] = []
    for (const c of cases) frames.push(encodeRequest({ ...c, window: 0 }))
    frames.push(
      encodeRequest({ ...cases[0]!, flags: 7, window: 256, windowBytes: 512 * 1024, windowItems: 8192 }),
    )
    // Names that differ from the last ones read only in their last byte, or in their length.
    for (const [method, replyTo, sender] of [
      ['echo', 'inbox-1', 'cam'],
      ['echp', 'inbox-2', 'can'],
      ['ech', 'inbox-', 'ca'],
      ['échο', 'inbox-é', 'çam'],
      ['echo', 'inbox-1', 'cam'],
    ] as const)
      frames.push(encodeRequest({ ...cases[0]!, method, replyTo, sender, window: 0 }))
    frames.push(packr.pack([2, 9, 'add', bytes(3), 'inbox', 0, 0, '', 0, 10, 20, 'future']))
    const into = readRequest(frames[0]!)
    for (let round = 0; round < 2; round++)
      for (const frame of [...frames, ...frames.slice().reverse()]) {
        expect(readRequest(frame, into)).toBe(into)
        const { src, bodyStart, bodyEnd, ...fields } = into
        expect({ ...fields, body: Buffer.from(src.subarray(bodyStart, bodyEnd)) }).toEqual(decoded(frame))
      }
  })

  it('reject a truncated or corrupt frame as decodeRequest does, with a ProtocolError', () => {
    const frame = encodeRequest({ ...cases[1]!, window: 0 })
    for (let n = 0; n < frame.length; n++)
      expect(() => readRequest(frame.subarray(0, n))).toThrow(ProtocolError)
    // A body length past the frame's end, a negative deadline, trailing bytes.
    const long = Buffer.from(encodeRequest({ ...cases[0]!, window: 0 }))
    long[9] = 0xff
    expect(() => readRequest(long)).toThrow(ProtocolError)
    const negative = packr.pack([2, 9, 'add', bytes(3), 'inbox', 0, -5.5, '', 0])
    expect(() => readRequest(negative)).toThrow(ProtocolError)
    const trailing = Buffer.concat([encodeRequest({ ...cases[0]!, window: 0 }), Buffer.from([0])])
    expect(() => readRequest(trailing)).toThrow(ProtocolError)
  })

  it('write a result of bytes as encodeBodyReply writes it', () => {
    for (const n of [0, 10, 64, 65, 253, 300, 70_000])
      for (const form of ['bin', 'ext'] as const)
        for (const kind of [FrameKind.Result, FrameKind.Item]) {
          const b = form === 'bin' ? bytes(n) : new Uint8Array(bytes(n))
          const direct = encodeBytesReply(kind, 300, b, form)
          const general = encodeBodyReply(kind, 300, new BytesBody(b, form)) as Uint8Array
          expect(direct.equals(general)).toBe(true)
        }
  })

  it('write a flat object (typed-call parameters) into the frame as the codec would encode it', () => {
    const w = new RequestWriter('cam')
    const objects = [
      {},
      { data: bytes(64) },
      { id: 'x', n: 3.5, ok: true, none: null, u8: new Uint8Array(3) },
    ]
    for (const o of objects) {
      const body = pendingFlat(o, 1 << 16)
      expect(body).toBeDefined()
      const fast = w.encode('m', w.method('m'), 7, body!, 'inbox', 0, 0) as Uint8Array
      const general = encodeRequest({
        id: 7,
        method: 'm',
        body: encodeFlat(o)!,
        replyTo: 'inbox',
        flags: 0,
        deadline: 0,
        sender: 'cam',
        window: 0,
      })
      expect(Buffer.from(fast).equals(general as Uint8Array)).toBe(true)
    }
    // Too large, or not flat: declined (the general path then encodes it).
    expect(pendingFlat({ data: bytes(100) }, 100)).toBeUndefined()
    expect(pendingFlat({ nested: { a: 1 } }, 1 << 16)).toBeUndefined()
    expect(pendingFlat(new Map(), 1 << 16)).toBeUndefined()
  })
})
