import { describe, expect, it } from 'vitest'
import { Confirmations } from '../../src/client/confirmations.js'

/** Adds `rid` and records how it settles. */
function track(c: Confirmations<string>, rid: number, log: string[]): void {
  c.add(
    rid,
    (v) => log.push(`${rid}:ok:${v}`),
    (e) => log.push(`${rid}:fail:${e.message}`),
  )
}

describe('confirmations', () => {
  it('a cumulative confirmation settles the waiting prefix in rid order, later ones keep waiting', () => {
    const c = new Confirmations<string>()
    const log: string[] = []
    for (const rid of [1, 2, 5, 9]) track(c, rid, log)
    c.confirm(5, 'x')
    expect(log).toEqual(['1:ok:x', '2:ok:x', '5:ok:x'])
    c.confirm(5, 'again')
    expect(log).toHaveLength(3)
    c.confirm(100, 'y')
    expect(log.at(-1)).toBe('9:ok:y')
  })

  it('one frame can fail on its own (then it is not confirmed), and failAll rejects what still waits', () => {
    const c = new Confirmations<string>()
    const log: string[] = []
    for (const rid of [1, 2, 3, 4]) track(c, rid, log)
    expect(c.fail(2, new Error('no'))).toBe(true)
    expect(c.fail(2, new Error('twice'))).toBe(false)
    expect(c.fail(7, new Error('unknown'))).toBe(false)
    c.confirm(3, 'ok')
    c.failAll(new Error('gone'))
    expect(log).toEqual(['2:fail:no', '1:ok:ok', '3:ok:ok', '4:fail:gone'])
  })

  it('keeps working across many rounds (the settled prefix is dropped)', () => {
    const c = new Confirmations<number>()
    let settled = 0
    let rid = 0
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++)
        c.add(
          ++rid,
          () => settled++,
          () => {},
        )
      c.confirm(rid - 10, 0)
    }
    c.confirm(rid, 0)
    expect(settled).toBe(rid)
  })
})
