/**
 * The stream pump over the in-process transport, where every delivery is a microtask: a server
 * that streams a synchronous iterable must still let timers and I/O run, must stop pulling when the
 * caller cancels (the generator's finally runs), and must await items that are promises.
 */
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/index.js'

describe('streaming a synchronous iterable', () => {
  it('does not starve the event loop while an endless generator streams', async () => {
    const url = `memory://pump-${process.pid}-1`
    const server = await connect(url)
    const caller = await connect(url)
    let finalized = false
    await server.requests.serve('endless', function* () {
      try {
        for (let i = 0; ; i++) yield i
      } finally {
        finalized = true
      }
    })
    let received = 0
    const sub = caller.requests.stream<number>('endless').subscribe({ next: () => received++ })
    // With a pump that only ever awaits microtasks, this timer would never fire.
    await new Promise((resolve) => setTimeout(resolve, 50))
    sub.unsubscribe()
    expect(received).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(finalized).toBe(true)
    await caller.close()
    await server.close()
  })

  it('awaits promise items and keeps their order', async () => {
    const url = `memory://pump-${process.pid}-2`
    const server = await connect(url)
    const caller = await connect(url)
    await server.requests.serve('mixed', () => [
      1,
      Promise.resolve(2),
      3,
      new Promise((r) => setTimeout(() => r(4), 5)),
    ])
    const items: unknown[] = []
    for await (const v of caller.requests.stream('mixed')) items.push(v)
    expect(items).toEqual([1, 2, 3, 4])
    await caller.close()
    await server.close()
  })
})
