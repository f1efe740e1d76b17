import { describe, expect, it } from 'vitest'
import { InflightTable } from '../../src/client/inflight.js'

const bytes = (n: number): Uint8Array => Uint8Array.of(n & 0xff)

describe('InflightTable', () => {
  it('finishes, takes and drains requests by tag', () => {
    const t = new InflightTable()
    let resolved = 0
    for (let tag = 1; tag <= 10; tag++)
      t.add(
        tag,
        `m${tag}`,
        bytes(tag),
        tag === 3 ? { resolve: () => resolved++, reject: () => {} } : undefined,
      )
    t.finish(3)
    t.finish(3)
    expect(resolved).toBe(1)
    expect(t.take(5)).toEqual({ method: 'm5', data: bytes(5), settle: undefined })
    expect(t.take(5)).toBeUndefined()
    expect(t.takeAbove(7).map((c) => c.method)).toEqual(['m8', 'm9', 'm10'])
    expect(t.takeAbove(0).map((c) => c.method)).toEqual(['m1', 'm2', 'm4', 'm6', 'm7'])
    expect(t.takeAbove(0)).toEqual([])
  })

  it('keeps a long-running request while thousands of others come and go', () => {
    const t = new InflightTable()
    t.add(1, 'stream', bytes(1), undefined)
    // Far more tags than the largest ring: the first request is moved aside, never lost.
    for (let tag = 2; tag < 20_000; tag++) {
      t.add(tag, 'm', bytes(tag), undefined)
      if (tag % 64 === 0) for (let done = tag - 63; done <= tag; done++) if (done > 1) t.finish(done)
    }
    const left = t.takeAbove(0)
    expect(left[0]?.method).toBe('stream')
    expect(left.slice(1).every((c) => c.method === 'm')).toBe(true)
    expect(t.take(1)).toBeUndefined()
  })

  it('grows when more requests are in flight than the ring holds, in tag order', () => {
    const t = new InflightTable()
    for (let tag = 1; tag <= 1000; tag++) t.add(tag, String(tag), bytes(tag), undefined)
    for (let tag = 1; tag <= 1000; tag += 2) expect(t.take(tag)?.method).toBe(String(tag))
    const rest = t.takeAbove(0).map((c) => Number(c.method))
    expect(rest).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i + 2))
  })
})
