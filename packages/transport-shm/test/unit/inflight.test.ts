import { describe, expect, it } from 'vitest'
import { InflightTable } from '../../src/inflight.js'

const body = (n: number): Uint8Array => new Uint8Array([n])

describe('InflightTable (direct requests not yet Done)', () => {
  it('hands out increasing ids and forgets a request once Done', () => {
    const t = new InflightTable()
    const a = t.add('m', body(1), 'x')
    const b = t.add('m', body(2), 'x')
    expect(b).toBe(a + 1)
    expect(t.done(a)).toBe(true)
    expect(t.done(a)).toBe(false)
    expect(t.take(a)).toBeUndefined()
    expect(t.take(b)).toEqual({ method: 'm', data: body(2), address: 'x' })
    expect(t.size).toBe(0)
    expect(t.done(0)).toBe(false)
  })

  it('skips the id of a slot a slow request still holds, and grows past half full', () => {
    const t = new InflightTable()
    const slow = t.add('slow', body(0), 'x')
    // Many quick requests go round the table while the slow one stays.
    const seen = new Set<number>()
    for (let i = 0; i < 1000; i++) {
      const did = t.add('quick', body(i & 0xff), 'y')
      expect(did).not.toBe(slow)
      expect(seen.has(did)).toBe(false)
      seen.add(did)
      expect(t.done(did)).toBe(true)
    }
    // Many at once: the table grows and keeps every one.
    const held = Array.from({ length: 300 }, (_, i) => t.add('held', body(i & 0xff), i % 2 ? 'x' : 'y'))
    expect(t.size).toBe(301)
    expect(t.take(slow)?.method).toBe('slow')
    for (const [i, did] of held.entries()) if (i % 3 === 0) expect(t.done(did)).toBe(true)
    expect(t.size).toBe(200)
  })

  it('takes every request of one address, oldest first', () => {
    const t = new InflightTable()
    const first = t.add('m', body(0), 'x')
    t.done(first)
    const ids: number[] = []
    for (let i = 0; i < 10; i++) ids.push(t.add('m', body(i), i % 2 ? 'gone' : 'kept'))
    const gone = t.takeAll('gone')
    expect(gone.map((r) => (r.data as Uint8Array)[0])).toEqual([1, 3, 5, 7, 9])
    expect(t.size).toBe(5)
    expect(t.takeAll('gone')).toEqual([])
    t.clear()
    expect(t.size).toBe(0)
  })
})
