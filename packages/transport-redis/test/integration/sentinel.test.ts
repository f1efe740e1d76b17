/** Sentinel: the transport finds the master through a Sentinel and carries the facilities. */
import { connect } from '@unipc/core'
import { startRedisSentinel, type TestRedisSentinel } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let sentinel: TestRedisSentinel
beforeAll(async () => {
  sentinel = await startRedisSentinel()
})
afterAll(async () => {
  await sentinel?.stop()
})

describe('Redis Sentinel', () => {
  it('connects to the master named by the sentinel and carries commands and settings', async () => {
    const transport = { sentinels: sentinel.sentinels, sentinelName: sentinel.name }
    const a = await connect('redis://sentinel', { component: 'sa', transport })
    const b = await connect('redis://sentinel', { component: 'sb', transport })
    try {
      await a.commands.handle((n: number) => n + 1)
      expect(await b.commands.send('sa', 1)).toBe(2)
      await b.settings.set('sa', 'k', 'v')
      expect(await sentinel.master.cli('HGET', 'unipc:map:settings/sa', 'k')).toContain('v')
    } finally {
      await a.close()
      await b.close()
    }
  })
})
