import { connect, NoHandlerError } from '@unipc/core'
import { startRedis, type TestRedis, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

describe('redis transport over a unix socket', () => {
  it('carries all five facilities between two buses', async () => {
    const a = await connect(redis.unixUrl, { component: 'alpha' })
    const b = await connect(redis.unixUrl, { component: 'beta' })
    try {
      await b.commands.send('alpha', { n: 0 }, { noReply: true })
      await b.commands.send('alpha', { n: 0 }, { noReply: true })
      expect(await a.transport.queues.depth?.('alpha')).toBe(2)
      await a.commands.handle((cmd: { n: number }) => cmd.n * 2)
      expect(await b.commands.send('alpha', { n: 21 })).toBe(42)
      await a.requests.serve('add', (d: { x: number; y: number }) => d.x + d.y)
      expect(await b.requests.call('add', { x: 1, y: 2 })).toBe(3)
      await b.settings.set('alpha', 'exposure', 10)
      expect(await a.settings.get('alpha', 'exposure')).toBe(10)
      const sub = b.events.subscribe('alpha.*')
      await sub.ready
      const got = new Promise((r) => sub.subscribe((m) => r(m)))
      await a.events.publish('alpha.started', { ok: true })
      expect(await got).toEqual({ channel: 'alpha.started', data: { ok: true } })
      await a.status.update({ mode: 'run' })
      const st = await b.status.get('alpha')
      expect(st.online).toBe(true)
      expect(st.fields).toEqual({ mode: 'run' })
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('request stream hygiene', () => {
  it('deletes the consumers of crashed servers once they are idle and hold nothing', async () => {
    const bus = await connect(`${redis.unixUrl}?workerTtl=100`, { component: 'hyg' })
    try {
      await bus.requests.serve('hyg.m', () => 1)
      await redis.cli('XGROUP', 'CREATECONSUMER', 'unipc:rq:{hyg.m}', 'servers', 'ghost')
      const names = async (): Promise<string> =>
        redis.cli('XINFO', 'CONSUMERS', 'unipc:rq:{hyg.m}', 'servers')
      expect(await names()).toContain('ghost')
      await waitFor(async () => !(await names()).includes('ghost'), 10_000)
      expect(await bus.requests.call('hyg.m')).toBe(1)
    } finally {
      await bus.close()
    }
  })
})

describe('request stream trimming', () => {
  it('deletes answered requests and keeps the stream short', async () => {
    const bus = await connect(`${redis.unixUrl}?workerTtl=150`, { component: 'trim' })
    try {
      await bus.requests.serve('trim.m', (n: number) => n)
      for (let i = 0; i < 50; i++) expect(await bus.requests.call('trim.m', i)).toBe(i)
      await waitFor(async () => Number(await redis.cli('XLEN', 'unipc:rq:{trim.m}')) <= 1, 10_000)
    } finally {
      await bus.close()
    }
  })
})

describe('request liveness key', () => {
  const alive = 'unipc:rq:{live.m}:alive'

  it('exists while a server serves, and a call after the last one stopped leaves no entry behind', async () => {
    const bus = await connect(redis.unixUrl, { component: 'live' })
    try {
      const served = await bus.requests.serve('live.m', () => 'ok')
      expect((await redis.cli('GET', alive)).trim()).toBe('1')
      expect(Number(await redis.cli('PTTL', alive))).toBeGreaterThan(0)
      expect(await bus.requests.call('live.m')).toBe('ok')
      await served.close()
      expect((await redis.cli('EXISTS', alive)).trim()).toBe('0')
      const before = Number(await redis.cli('XLEN', 'unipc:rq:{live.m}'))
      await expect(bus.requests.call('live.m')).rejects.toBeInstanceOf(NoHandlerError)
      expect(Number(await redis.cli('XLEN', 'unipc:rq:{live.m}'))).toBe(before)
    } finally {
      await bus.close()
    }
  })

  it('a request a server read before the liveness check counts as dispatched', async () => {
    const bus = await connect(redis.unixUrl, { component: 'live2' })
    try {
      await bus.requests.serve('live.m', () => 'answered')
      // The key vanishes while the server still blocks reading (as if it had just expired): Redis
      // hands the new entry to the waiting server right after the XADD, before the caller's GET.
      await redis.cli('DEL', alive)
      expect(await bus.requests.call('live.m')).toBe('answered')
    } finally {
      await bus.close()
    }
  })
})
