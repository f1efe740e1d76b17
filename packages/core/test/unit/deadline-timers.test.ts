import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { connect, TimeoutError } from '../../src/index.js'
import { DeadlineTimers, type Expiring, now, wallAt } from '../../src/internal/deadline-timers.js'

function entry(onExpire: () => void): Expiring {
  return { expireAt: 0, prevExpiring: undefined, nextExpiring: undefined, expire: onExpire }
}

describe('DeadlineTimers', () => {
  it('expires entries of one timeout in start order, and never a cancelled one', async () => {
    const timers = new DeadlineTimers()
    const expired: string[] = []
    const a = entry(() => expired.push('a'))
    const b = entry(() => expired.push('b'))
    const c = entry(() => expired.push('c'))
    timers.start(a, 30)
    timers.start(b, 30)
    timers.start(c, 30)
    timers.cancel(b, 30)
    await new Promise((r) => setTimeout(r, 120))
    expect(expired).toEqual(['a', 'c'])
  })

  it('re-arms for entries added after the timer was armed, and for a list that emptied and filled again', async () => {
    const timers = new DeadlineTimers()
    const expired: string[] = []
    const first = entry(() => expired.push('first'))
    timers.start(first, 40)
    timers.cancel(first, 40)
    await new Promise((r) => setTimeout(r, 20))
    timers.start(
      entry(() => expired.push('second')),
      40,
    )
    await new Promise((r) => setTimeout(r, 30))
    // The timer armed for `first` fired before `second` was due: `second` must still be waiting.
    expect(expired).toEqual([])
    await new Promise((r) => setTimeout(r, 80))
    expect(expired).toEqual(['second'])
  })

  it('hands back many distinct timeout values to their own timers', () => {
    const timers = new DeadlineTimers()
    const started = Array.from({ length: 12 }, (_, i) =>
      timers.start(
        entry(() => {}),
        1000 + i,
      ),
    )
    expect(started.filter(Boolean)).toHaveLength(8)
    for (let i = 0; i < 12; i++)
      timers.cancel(
        entry(() => {}),
        1000 + i,
      )
  })
})

describe('call timeouts on a bus', () => {
  it('fail calls with TimeoutError on every path: shared lists and own timers', async () => {
    const bus = await connect('memory://deadline-timers')
    // The handler gives up when its deadline passes, so close() need not wait for it.
    await bus.requests.serve(
      'never',
      (_, ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    )
    // Ten distinct timeout values: eight use the bus's lists, the rest their own timers.
    const calls = Array.from({ length: 10 }, (_, i) => bus.requests.call('never', i, { timeout: 20 + i }))
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(TimeoutError)
    await bus.close()
  })

  it('do not keep the process alive once no call waits', { timeout: 30_000 }, async () => {
    // A call with a 60 s timeout answered at once: the process must then exit by itself (the
    // shared timer is unref'd when its list empties), not hang until the timeout.
    const script = `
      import { connect } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).pathname)}
      const bus = await connect('memory://exit')
      await bus.requests.serve('echo', (d) => d)
      await bus.requests.call('echo', 1, { timeout: 60000 })
      await bus.requests.call('echo', 2, { timeout: 60000 })
      console.log('answered')
    `
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 20_000 },
    )
    expect(stdout.trim()).toBe('answered')
  })

  it('reads the wall clock from the monotonic one: never before Date.now(), at most a millisecond after', async () => {
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 2000; i++) {
        const before = Date.now()
        const wall = wallAt(now())
        const after = Date.now()
        expect(wall).toBeGreaterThanOrEqual(before)
        expect(wall).toBeLessThanOrEqual(after + 1)
      }
      // Across re-reads of the offset (every 100 ms).
      await new Promise((r) => setTimeout(r, 60))
    }
  })

  it('is not skewed by a thread that stalls between the two clock reads of a re-calibration', async () => {
    // Let the offset go stale, then make the wall-clock read stall once (as a preempted thread
    // would): the estimate must not carry the lost time for the next 100 ms.
    await new Promise((r) => setTimeout(r, 110))
    const realNow = Date.now
    let stalled = false
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => {
      if (!stalled) {
        stalled = true
        const until = performance.now() + 3
        while (performance.now() < until) {}
      }
      return realNow()
    })
    try {
      wallAt(now())
    } finally {
      spy.mockRestore()
    }
    expect(stalled).toBe(true)
    for (let i = 0; i < 200; i++) {
      const wall = wallAt(now())
      const after = Date.now()
      expect(wall).toBeLessThanOrEqual(after + 1)
    }
  })
})
