import { describe, expect, it } from 'vitest'
import { connect, monitor, registerTransport, type TraceRecord } from '../../src/index.js'
import { decodeInbox, decodeRequest, FrameKind } from '../../src/internal/frames.js'
import { createMemoryTransport } from '../../src/memory/memory-transport.js'
import type { BytesOrParts, GatheringMessaging, Transport } from '../../src/spi.js'

const KiB = 1024

/** What one transport was handed by the core. */
interface Seen {
  readonly dispatched: BytesOrParts[]
  readonly sent: BytesOrParts[]
}

function join(data: BytesOrParts): Uint8Array {
  return Array.isArray(data) ? Buffer.concat(data as Uint8Array[]) : (data as Uint8Array)
}

/**
 * A memory transport that records what `dispatch` and `send` receive and declares `gatherWrites`
 * or not; it hands the memory transport the concatenation (which takes one Uint8Array).
 */
function recording(gather: boolean, seen: Seen): (url: URL) => Transport {
  return (url) => {
    const inner = createMemoryTransport(new URL(`memory://${url.hostname}`))
    const m = inner.messaging
    const messaging: GatheringMessaging = {
      get address() {
        return m.address
      },
      onMessage: (handler) => m.onMessage(handler),
      serve: (method, onRequest) => m.serve(method, onRequest),
      send: (to, data) => {
        seen.sent.push(data)
        return m.send(to, join(data))
      },
      dispatch: (method, data) => {
        seen.dispatched.push(data)
        return m.dispatch(method, join(data))
      },
    }
    const { limits, queues, maps, pubsub } = inner
    const supports = { ...inner.supports, gatherWrites: gather }
    const open = inner.open.bind(inner)
    const close = inner.close.bind(inner)
    return { name: 'recording', supports, limits, open, close, queues, maps, pubsub, messaging }
  }
}

const gathering: Seen = { dispatched: [], sent: [] }
const plain: Seen = { dispatched: [], sent: [] }
registerTransport('gather-rec', recording(true, gathering))
registerTransport('plain-rec', recording(false, plain))

function filled(n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + n) & 0xff
  return b
}

/** Calls `echo` with `value` on a fresh pair of buses of `scheme`; returns the reply and what the transport saw. */
async function echo(
  scheme: string,
  seen: Seen,
  value: unknown,
): Promise<{ reply: unknown; request: BytesOrParts; result: BytesOrParts }> {
  const url = `${scheme}://w${Math.random().toString(36).slice(2)}`
  await using server = await connect(url)
  await using client = await connect(url)
  await server.requests.serve('echo', (d) => d)
  seen.dispatched.length = 0
  seen.sent.length = 0
  const reply = await client.requests.call('echo', value)
  expect(seen.dispatched).toHaveLength(1)
  expect(seen.sent).toHaveLength(1)
  return { reply, request: seen.dispatched[0] as BytesOrParts, result: seen.sent[0] as BytesOrParts }
}

const bytesEqual = (a: unknown, b: Uint8Array): boolean =>
  a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

describe('gather writes (supports.gatherWrites)', () => {
  it('a transport that declares it gets a Buffer body of 64 KiB or more as its own part, not copied', async () => {
    for (const n of [64 * KiB, 64 * KiB + 1, 1024 * KiB]) {
      const payload = filled(n)
      const { reply, request, result } = await echo('gather-rec', gathering, payload)
      expect(bytesEqual(reply, payload)).toBe(true)
      expect(Array.isArray(request)).toBe(true)
      const parts = request as readonly Uint8Array[]
      expect(parts).toHaveLength(3)
      expect(parts[1] === payload).toBe(true)
      const req = decodeRequest(join(request))
      expect(req.method).toBe('echo')
      // The reply is [start, bytes]: the server's handler returned the body it received.
      expect(Array.isArray(result)).toBe(true)
      expect((result as readonly Uint8Array[]).length).toBe(2)
      const res = decodeInbox(join(result))
      expect(res.kind).toBe(FrameKind.Result)
    }
  })

  it('below 64 KiB the same transport gets one Uint8Array', async () => {
    const payload = filled(64 * KiB - 1)
    const { reply, request, result } = await echo('gather-rec', gathering, payload)
    expect(bytesEqual(reply, payload)).toBe(true)
    expect(request).toBeInstanceOf(Uint8Array)
    expect(result).toBeInstanceOf(Uint8Array)
  })

  it('bodies the codec encodes (objects, plain Uint8Arrays) of 64 KiB or more are parts too', async () => {
    const data = filled(100 * KiB)
    const value = { frame: data, seq: 3 }
    const r1 = await echo('gather-rec', gathering, value)
    expect(Array.isArray(r1.request) && Array.isArray(r1.result)).toBe(true)
    const got = r1.reply as { frame: Uint8Array; seq: number }
    expect(got.seq).toBe(3)
    expect(bytesEqual(got.frame, data)).toBe(true)
    const plainArray = new Uint8Array(filled(80 * KiB))
    const r2 = await echo('gather-rec', gathering, plainArray)
    expect(Array.isArray(r2.request)).toBe(true)
    expect((r2.request as readonly Uint8Array[])[1] === plainArray).toBe(true)
    expect(r2.reply).toBeInstanceOf(Uint8Array)
    expect(bytesEqual(r2.reply, plainArray)).toBe(true)
  })

  it('a transport that does not declare it gets one Uint8Array, byte-identical to the joined parts', async () => {
    for (const n of [64 * KiB - 1, 64 * KiB, 1024 * KiB]) {
      const payload = filled(n)
      const g = await echo('gather-rec', gathering, payload)
      const p = await echo('plain-rec', plain, payload)
      expect(p.request).toBeInstanceOf(Uint8Array)
      expect(p.result).toBeInstanceOf(Uint8Array)
      expect(bytesEqual(p.reply, payload)).toBe(true)
      // Same frames but for the per-bus fields (reply address, deadline): compare field by field.
      const gr = decodeRequest(join(g.request))
      const pr = decodeRequest(p.request as Uint8Array)
      expect(Buffer.from(gr.body).equals(pr.body)).toBe(true)
      expect([gr.method, gr.flags, gr.window, gr.id]).toEqual([pr.method, pr.flags, pr.window, pr.id])
      expect(Buffer.from(join(g.result)).equals(p.result as Uint8Array)).toBe(true)
    }
  })

  it('stream items of 64 KiB or more are parts; the limit still refuses an oversized body', async () => {
    const url = `gather-rec://s${Math.random().toString(36).slice(2)}`
    await using server = await connect(url)
    await using client = await connect(url, { maxPayload: 256 * KiB })
    const item = filled(128 * KiB)
    await server.requests.serve('items', async function* () {
      yield item
      yield item
    })
    gathering.sent.length = 0
    const got: Uint8Array[] = []
    for await (const v of client.requests.stream('items')) got.push(v as Uint8Array)
    expect(got).toHaveLength(2)
    for (const v of got) expect(bytesEqual(v, item)).toBe(true)
    expect(gathering.sent.filter((d) => Array.isArray(d)).length).toBe(2)
    await expect(client.requests.call('items', filled(256 * KiB + 1))).rejects.toMatchObject({
      code: 'UNIPC_PAYLOAD_TOO_LARGE',
    })
  })

  it('a monitor still traces a request handed over as parts', async () => {
    const url = `gather-rec://m${Math.random().toString(36).slice(2)}`
    await using watcher = await connect(url)
    const m = monitor(watcher)
    const seen: TraceRecord[] = []
    m.subscribe((r) => seen.push(r))
    await m.ready
    await using server = await connect(url, { component: 'srv' })
    await using client = await connect(url, { component: 'cli' })
    await server.requests.serve('big', (d: Uint8Array) => d.length)
    expect(await client.requests.call('big', filled(128 * KiB))).toBe(128 * KiB)
    const end = Date.now() + 3000
    while (!seen.some((r) => r.kind === 'response') && Date.now() < end)
      await new Promise((r) => setTimeout(r, 5))
    expect(seen.find((r) => r.kind === 'request')).toMatchObject({
      src: 'cli',
      dst: 'big',
      size: 128 * KiB + 5,
    })
    expect(seen.find((r) => r.kind === 'response')).toMatchObject({ src: 'big', dst: 'cli', data: 128 * KiB })
    await m.close()
  })
})
