/**
 * The five facilities on a local 3-master Redis Cluster, with names chosen so their keys land on
 * all three masters.
 */
import { type Bus, connect } from '@unipc/core'
import { startRedisCluster, type TestRedisCluster, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let cluster: TestRedisCluster
const buses: Bus[] = []

beforeAll(async () => {
  cluster = await startRedisCluster()
})
afterAll(async () => {
  await Promise.allSettled(buses.map((b) => b.close()))
  await cluster?.stop()
})

async function bus(component?: string, drainTimeout = 5000): Promise<Bus> {
  const b = await connect(cluster.url, {
    component,
    drainTimeout,
    timeout: 10_000,
    transport: { cluster: cluster.nodes, workerTtl: 1000 },
  })
  buses.push(b)
  return b
}

describe('Redis Cluster with three masters', () => {
  it('carries commands, requests, settings, status and events with keys spread over every master', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `node${i}`)
    const client = await bus('client')
    const workers = await Promise.all(names.map((n) => bus(n)))
    for (const [i, w] of workers.entries()) {
      await w.commands.handle((cmd: number) => cmd * 10 + i)
      await w.requests.serve(`sum.${names[i]}`, (d: number[]) => d.reduce((a, b) => a + b, i))
      await w.status.update({ index: i })
    }
    const sub = client.events.subscribe('node*.>')
    const events: string[] = []
    sub.subscribe((m) => events.push(m.channel))
    await sub.ready
    for (const [i, n] of names.entries()) {
      expect(await client.commands.send(n, 1)).toBe(10 + i)
      expect(await client.requests.call(`sum.${n}`, [1, 2])).toBe(3 + i)
      await client.settings.set(n, 'gain', i)
      expect(await workers[i]?.settings.get(n, 'gain')).toBe(i)
      const st = await client.status.get(n)
      expect(st.online).toBe(true)
      expect(st.fields).toEqual({ index: i })
      await workers[i]?.events.publish(`${n}.ready.now`, i)
    }
    await waitFor(() => events.length === names.length)
    // Every master holds some of the keys.
    const { Redis } = await import('ioredis')
    for (const port of cluster.ports) {
      const node = new Redis({ port, host: '127.0.0.1' })
      try {
        expect(await node.dbsize()).toBeGreaterThan(0)
      } finally {
        node.disconnect()
      }
    }
  })

  it('a command held by a worker whose bus closed goes to another worker in the cluster', async () => {
    const a = await bus('cq', 100)
    let release: (() => void) | undefined
    await a.commands.handle(() => new Promise<void>((r) => (release = r)))
    const sender = await bus()
    const reply = sender.commands.send('cq', 'job')
    await waitFor(() => release !== undefined)
    await a.close()
    const b = await bus('cq')
    await b.commands.handle((cmd: string, ctx) => ({ cmd, redelivered: ctx.redelivered }))
    expect(await reply).toEqual({ cmd: 'job', redelivered: true })
  })
})
