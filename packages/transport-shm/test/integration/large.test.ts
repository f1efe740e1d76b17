import { fileURLToPath } from 'node:url'
import { type Bus, connect } from '@unipc/core'
import { type ChildHandle, spawnTs, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listSegments } from '../../src/gc.js'
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.js'

const fixture = fileURLToPath(new URL('../fixtures/stream-server.ts', import.meta.url))

let broker: BrokerProcess
let server: ChildHandle
let bus: Bus
beforeAll(async () => {
  broker = await startBrokerProcess()
  server = spawnTs(fixture, [broker.url])
  await server.waitForLine('ready')
  bus = await connect(broker.url, { component: 'large' })
})
afterAll(async () => {
  await bus?.close()
  await server?.kill('SIGKILL')
  await broker?.stop()
})

/** A payload whose every byte depends on its index and a seed, so a mix-up shows. */
function payload(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7) & 0xff
  return b
}

describe('shm large payloads (slabs)', () => {
  it('concurrent large messages each arrive intact, in the slab or (when it is full) in blobs', async () => {
    // 24 payloads of 100 KB .. 2.4 MB in flight at once: more than one 8 MiB slab holds.
    const sent = Array.from({ length: 24 }, (_, i) => payload(100_000 * (i + 1), i))
    const echoed = await Promise.all(
      sent.map((p) => bus.requests.call<Uint8Array>('echo', p, { timeout: 60_000 })),
    )
    for (let i = 0; i < sent.length; i++)
      expect(Buffer.from(echoed[i] as Uint8Array).equals(Buffer.from(sent[i] as Uint8Array))).toBe(true)
    // The slabs live on, 0600, one per direction of the link that carried large payloads.
    const pid = server.process.pid as number
    const slabs = listSegments().filter(
      (s) => s.kind === 'slab' && (s.creatorPid === process.pid || s.creatorPid === pid),
    )
    expect(slabs.map((s) => s.creatorPid).sort()).toEqual([process.pid, pid].sort())
    for (const s of slabs) expect(s.mode).toBe(0o600)
  })

  it('the slab is reused message after message, large and small interleaved', async () => {
    for (let i = 0; i < 40; i++) {
      const p = payload(i % 3 === 0 ? 300 : 1_048_576 + i, i)
      const back = await bus.requests.call<Uint8Array>('echo', p)
      expect(Buffer.from(back).equals(Buffer.from(p))).toBe(true)
    }
  })

  it('a body above the slab limit (4 MiB) travels in a blob segment, written from its parts', async () => {
    // The core hands a large body as [frame start, body, frame end] (supports.gatherWrites).
    const big = payload(5 * 1024 * 1024 + 3, 9)
    const back = await bus.requests.call<Uint8Array>('echo', big, { timeout: 60_000 })
    expect(Buffer.from(back).equals(Buffer.from(big))).toBe(true)
  })

  it('a large Buffer body handed out as a view stays intact while the slab is reused', async () => {
    // The core views large call bodies in what the transport delivers (ownedDeliveries): those
    // must be fresh buffers, never the slab itself, or the next message would overwrite them.
    const first = Buffer.alloc(1 << 20, 0xa1)
    const kept = await bus.requests.call<Buffer>('echo', first)
    for (let i = 0; i < 4; i++) await bus.requests.call<Buffer>('echo', Buffer.alloc(1 << 20, i))
    expect(Buffer.from(kept).equals(Buffer.alloc(1 << 20, 0xa1))).toBe(true)
  })

  it('hundreds of requests in flight, across read chunks and read buffers, each come back intact', async () => {
    // Inline sizes around the ~2 KiB read chunk of a direct link and its 16 KiB read buffers (17 and
    // 40 KB each need a buffer of their own), kept by the caller while later replies arrive.
    const sizes = [0, 64, 1500, 2100, 9000, 17_000, 40_000]
    const sent = Array.from({ length: 350 }, (_, i) => payload(sizes[i % sizes.length] as number, i))
    const echoed = await Promise.all(sent.map((p) => bus.requests.call<Uint8Array>('echo', p)))
    for (let i = 0; i < sent.length; i++)
      expect(Buffer.from(echoed[i] as Uint8Array).equals(Buffer.from(sent[i] as Uint8Array))).toBe(true)
  })

  it('slabs are removed when the link closes', async () => {
    const pid = server.process.pid as number
    await server.kill('SIGTERM')
    await waitFor(
      () =>
        !listSegments().some(
          (s) => s.kind === 'slab' && (s.creatorPid === pid || s.creatorPid === process.pid),
        ),
    )
  })
})

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  ?.glibcVersionRuntime
const userMalloc = Object.keys(process.env).some((k) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES')

describe.skipIf(!glibc || userMalloc)('shm malloc tuning option', () => {
  const fixture = fileURLToPath(new URL('../fixtures/malloc-option.ts', import.meta.url))

  /** Runs two buses exchanging 1 MiB in a fresh process; returns whether it tuned malloc. */
  async function tunedWith(query: string): Promise<string> {
    const own = await startBrokerProcess(query)
    const child = spawnTs(fixture, [own.url])
    try {
      return await child.waitForLine(/^tuned /, 30_000)
    } finally {
      await child.kill('SIGKILL')
      await own.stop()
    }
  }

  it('tunes glibc malloc on the first large payload, unless tuneMalloc=0', { timeout: 60_000 }, async () => {
    expect(await tunedWith('')).toBe('tuned true')
    expect(await tunedWith('&tuneMalloc=0')).toBe('tuned false')
  })
})
