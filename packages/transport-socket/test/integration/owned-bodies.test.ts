import { join } from 'node:path'
import { connect } from '@unipc/core'
import { tempDir } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { startHub } from '../../src/index.js'

/**
 * The socket transport declares `ownedDeliveries`: every frame it reads lands in memory of its own.
 * The core then hands large Buffer bodies of calls to the application as views of those frames
 * (no copy per side); events stay copies, one per subscription.
 */
describe('large call bodies over the socket transport', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  async function buses(query: string) {
    const dir = tempDir('unipc-owned-')
    stops.push(() => dir.cleanup())
    const url = `unix://${join(dir.path, 'hub.sock')}${query}`
    const hub = await startHub({ listen: [url] })
    stops.push(() => hub.close())
    const server = await connect(url, { liveness: false })
    stops.push(() => server.close())
    const caller = await connect(url, { liveness: false })
    stops.push(() => caller.close())
    return { server, caller }
  }

  /**
   * True when a large `b` is a view into its frame (its bytes start after the frame's header). A
   * large copy is memory of its own, starting at offset 0.
   */
  const isView = (b: Buffer): boolean => b.length >= 64 * 1024 && b.byteOffset > 0

  for (const [path, query] of [
    ['direct', ''],
    ['through the hub', '?direct=0'],
  ] as const) {
    it(`arrive intact as views of their frames (${path})`, async () => {
      const { server, caller } = await buses(query)
      const seen: boolean[] = []
      await server.requests.serve('echo', (data: Buffer) => {
        seen.push(isView(data))
        // Changing the view changes nobody else's bytes: the frame was this handler's alone.
        const reply = Buffer.from(data)
        data.fill(0)
        return reply
      })
      const big = Buffer.alloc(300_000)
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
      const back = await caller.requests.call<Buffer>('echo', big)
      expect(back.equals(big)).toBe(true)
      expect(isView(back)).toBe(true)
      const small = Buffer.from('small body')
      const smallBack = await caller.requests.call<Buffer>('echo', small)
      expect(smallBack.equals(small)).toBe(true)
      expect(seen).toEqual([true, false])
    })
  }

  it('events stay copies: one subscriber changing its data does not change another’s', async () => {
    const { server, caller } = await buses('')
    const got: Buffer[] = []
    const subs = [server.events.subscribe('big.x'), server.events.subscribe('big.x')]
    const done = new Promise<void>((resolve) => {
      for (const s of subs)
        s.subscribe(({ data }) => {
          const b = data as Buffer
          got.push(Buffer.from(b))
          b.fill(0)
          if (got.length === 2) resolve()
        })
    })
    await Promise.all(subs.map((s) => s.ready))
    const big = Buffer.alloc(100_000, 9)
    await caller.events.publish('big.x', big)
    await done
    expect(got.map((b) => b.equals(big))).toEqual([true, true])
  })
})
