/** Durable events: a capped stream per channel that a subscriber replays from a remembered id. */
import { connect, InvalidArgumentError } from '@unipc/core'
import { startRedis, type TestRedis, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DurableEvent, durableEvents } from '../../src/index.js'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

describe('durable events', () => {
  it('replays what a subscriber missed from the id it remembers, then delivers new events', async () => {
    const pub = await connect(redis.unixUrl)
    const sub = await connect(redis.unixUrl)
    try {
      const durable = durableEvents(pub)
      const live: unknown[] = []
      const liveSub = sub.events.subscribe('orders.*')
      liveSub.subscribe((m) => live.push(m.data))
      await liveSub.ready
      const ids: string[] = []
      for (let i = 1; i <= 5; i++) ids.push(await durable.publish('orders.created', { order: i }))
      // Live subscribers see durable events too.
      await waitFor(() => live.length === 5)

      const got: DurableEvent[] = []
      const handle = await durableEvents(sub).subscribe('orders.created', ids[1] as string, (e) =>
        got.push(e),
      )
      await waitFor(() => got.length === 3)
      expect(got.map((e) => e.data)).toEqual([{ order: 3 }, { order: 4 }, { order: 5 }])
      await durable.publish('orders.created', { order: 6 })
      await waitFor(() => got.length === 4)
      expect(got[3]).toMatchObject({ channel: 'orders.created', data: { order: 6 } })
      await handle.close()

      const all: DurableEvent[] = []
      const h2 = await durableEvents(sub).subscribe('orders.created', 'first', (e) => all.push(e))
      await waitFor(() => all.length === 6)
      await h2.close()
      const fresh: DurableEvent[] = []
      const h3 = await durableEvents(sub).subscribe('orders.created', 'new', (e) => fresh.push(e))
      await durable.publish('orders.created', { order: 7 })
      await waitFor(() => fresh.length === 1)
      expect(fresh[0]?.data).toEqual({ order: 7 })
      await h3.close()
    } finally {
      await pub.close()
      await sub.close()
    }
  })

  it('caps the stream with MAXLEN ~ and rejects bad arguments', async () => {
    const bus = await connect(redis.unixUrl)
    try {
      const durable = durableEvents(bus)
      for (let i = 0; i < 300; i++) await durable.publish('metrics.tick', i, { maxLen: 100 })
      const len = Number(await redis.cli('XLEN', 'unipc:dev:{metrics.tick}'))
      expect(len).toBeLessThan(300)
      expect(len).toBeGreaterThanOrEqual(100)
      await expect(durable.publish('metrics.tick', 1, { maxLen: 0 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(durable.subscribe('metrics.tick', 'yesterday', () => {})).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(() => durable.publish('bad.*', 1)).toThrow(InvalidArgumentError)
    } finally {
      await bus.close()
    }
  })
})
