import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bus, connect } from '@unipc/core'
import { type ChildHandle, spawnTs, tempDir } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startHub } from '../../src/index.js'
import { makeCerts } from '../helpers/certs.js'
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js'

/**
 * The socket transport declares `gatherWrites`: a request or reply whose body is 64 KiB or more
 * reaches it as `[frame start, body, frame end]` and leaves in one writev with the transport's
 * frame header, the body never copied into a frame. These tests check what arrives, across
 * processes (hub and echo server in child processes), over unix and TCP, on the direct path and
 * through the hub, around the 64 KiB threshold and at the frame limits.
 */

const serverFixture = fileURLToPath(new URL('../fixtures/server.ts', import.meta.url))
const token = 'gather-writes-token-0123456789'
const KiB = 1024
const MiB = 1024 * KiB

/** Bytes that differ per size and seed, so a reply mixed up with another shows. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff
  return b
}

const same = (a: unknown, b: Uint8Array): boolean =>
  a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

describe('large bodies written in parts (gatherWrites)', () => {
  const dir = tempDir('unipc-gather-')
  let hub: HubProcess | undefined
  const servers: ChildHandle[] = []
  const urls: Record<string, string> = {}

  beforeAll(async () => {
    writeFileSync(join(dir.path, 'token'), token, { mode: 0o600 })
    hub = await startHubProcess([
      '--listen',
      `unix://${join(dir.path, 'hub.sock')}`,
      '--listen',
      'tcp://127.0.0.1:0',
      '--token-file',
      join(dir.path, 'token'),
    ])
    urls.unix = hub.urls[0] as string
    urls.tcp = `${hub.urls[1]}?token=${token}`
    // One echo server process per socket kind; callers pick the direct path or the hub.
    for (const url of [urls.unix, urls.tcp]) {
      const child = spawnTs(serverFixture, [url as string])
      servers.push(child)
      await child.waitForLine('server ready', 30_000)
    }
  }, 60_000)

  afterAll(async () => {
    for (const s of servers) await s.kill('SIGKILL')
    await hub?.stop()
    dir.cleanup()
  })

  const buses: Bus[] = []
  afterEach(async () => {
    for (const b of buses.splice(0)) await b.close()
  })

  async function caller(kind: 'unix' | 'tcp', direct: boolean): Promise<Bus> {
    const base = urls[kind] as string
    const url = direct ? base : `${base}${base.includes('?') ? '&' : '?'}direct=0`
    const bus = await connect(url, { liveness: false })
    buses.push(bus)
    return bus
  }

  for (const kind of ['unix', 'tcp'] as const) {
    for (const direct of [true, false]) {
      const path = `${kind}, ${direct ? 'direct' : 'through the hub'}`

      it(`echoes bodies around 64 KiB and of 1 MiB intact (${path})`, { timeout: 60_000 }, async () => {
        const bus = await caller(kind, direct)
        for (const n of [64 * KiB - 1, 64 * KiB, 64 * KiB + 1, MiB]) {
          const buf = pattern(n, n)
          expect(same(await bus.requests.call('echo', buf), buf)).toBe(true)
          const plain = new Uint8Array(pattern(n, n + 1))
          const back = await bus.requests.call('echo', plain)
          expect(back).toBeInstanceOf(Uint8Array)
          expect(same(back, plain)).toBe(true)
        }
        // A body the codec encodes (an object carrying bytes) takes the same path.
        const obj = { id: 'frame-7', data: pattern(300 * KiB, 3), n: 7 }
        const got = (await bus.requests.call('echo', obj)) as typeof obj
        expect(got.id).toBe('frame-7')
        expect(got.n).toBe(7)
        expect(same(got.data, obj.data)).toBe(true)
      })

      it(`keeps every reply right with large and small calls in flight together (${path})`, {
        timeout: 60_000,
      }, async () => {
        const bus = await caller(kind, direct)
        const sizes = [
          10,
          70 * KiB,
          MiB,
          100,
          64 * KiB,
          3 * KiB,
          2 * MiB,
          64 * KiB - 1,
          1,
          200 * KiB,
          50,
          MiB,
        ]
        const bodies = sizes.map((n, i) => pattern(n, i))
        const replies = await Promise.all(bodies.map((b) => bus.requests.call('echo', b)))
        expect(replies.map((r, i) => same(r, bodies[i] as Buffer))).toEqual(sizes.map(() => true))
      })
    }
  }

  it('refuses a body over the 64 MiB default with PayloadTooLargeError and carries the largest that fits', {
    timeout: 120_000,
  }, async () => {
    const bus = await caller('unix', true)
    // The transport leaves 64 KiB of the 64 MiB frame for headers; a Buffer body's own header is 5 bytes.
    const largest = 64 * MiB - 64 * KiB - 5
    const over = Buffer.alloc(largest + 1, 1)
    await expect(bus.requests.call('echo', over)).rejects.toMatchObject({ code: 'UNIPC_PAYLOAD_TOO_LARGE' })
    const fits = over.subarray(0, largest)
    fits[0] = 2
    fits[largest - 1] = 3
    const back = await bus.requests.call('echo', fits, { timeout: 100_000 })
    expect(same(back, fits)).toBe(true)
  })
})

describe('frame limits with gathered bodies (embedded hub)', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  it('a gathered request over the hub’s smaller frame limit fails with PayloadTooLargeError; smaller ones pass', async () => {
    const dir = tempDir('unipc-gather-limit-')
    stops.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}`], maxFrame: 512 * KiB })
    stops.push(() => hub.close())
    // The caller believes frames of 4 MiB are fine: only the link's check (on the parts' size) stops it.
    const server = await connect(`unix://${sock}?maxFrame=${4 * MiB}`, { liveness: false })
    stops.push(() => server.close())
    const bus = await connect(`unix://${sock}?maxFrame=${4 * MiB}&direct=0`, { liveness: false })
    stops.push(() => bus.close())
    await server.requests.serve('echo', (d) => d)
    const ok = pattern(400 * KiB, 1)
    expect(same(await bus.requests.call('echo', ok), ok)).toBe(true)
    await expect(bus.requests.call('echo', pattern(MiB, 2))).rejects.toMatchObject({
      code: 'UNIPC_PAYLOAD_TOO_LARGE',
    })
    // The link is still usable.
    expect(same(await bus.requests.call('echo', ok), ok)).toBe(true)
  })

  it('large bodies cross a TLS hub intact (TLS keeps every request on the hub path)', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir('unipc-gather-tls-')
    stops.push(() => dir.cleanup())
    const c = makeCerts(dir.path)
    const tls = { cert: c.serverCert, key: c.serverKey, ca: c.ca }
    const hub = await startHub({ listen: ['tls://127.0.0.1:0'], tls })
    stops.push(() => hub.close())
    const url = `${hub.urls[0]}?ca=${dir.path}/ca.crt&cert=${dir.path}/client.crt&key=${dir.path}/client.key`
    const server = await connect(url, { liveness: false })
    stops.push(() => server.close())
    const bus = await connect(url, { liveness: false })
    stops.push(() => bus.close())
    await server.requests.serve('echo', (d) => d)
    const bodies = [64 * KiB - 1, 64 * KiB, MiB, 10].map((n, i) => pattern(n, i))
    const replies = await Promise.all(bodies.map((b) => bus.requests.call('echo', b)))
    expect(replies.map((r, i) => same(r, bodies[i] as Buffer))).toEqual(bodies.map(() => true))
  })

  it('stream items of 64 KiB or more arrive intact and in order', async () => {
    const dir = tempDir('unipc-gather-stream-')
    stops.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}`] })
    stops.push(() => hub.close())
    for (const query of ['', '?direct=0']) {
      const server = await connect(`unix://${sock}${query}`, { liveness: false })
      stops.push(() => server.close())
      const bus = await connect(`unix://${sock}${query}`, { liveness: false })
      stops.push(() => bus.close())
      const items = [64 * KiB, 10, MiB, 64 * KiB - 1, 300 * KiB].map((n, i) => pattern(n, i))
      const method = `items${query ? 'hub' : 'direct'}`
      await server.requests.serve(method, async function* () {
        yield* items
      })
      const got: unknown[] = []
      for await (const v of bus.requests.stream(method)) got.push(v)
      expect(got.map((v, i) => same(v, items[i] as Buffer))).toEqual(items.map(() => true))
    }
  })
})
