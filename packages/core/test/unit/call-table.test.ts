import { describe, expect, it } from 'vitest'
import { CallTable } from '../../src/internal/call-table.js'

describe('CallTable', () => {
  it('behaves like a Map under batches of consecutive ids finishing in any order', () => {
    const table = new CallTable<string>()
    const model = new Map<number, string>()
    let next = 1
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let round = 0; round < 2000; round++) {
      for (let i = rand(70); i > 0; i--) {
        const id = next++
        table.set(id, `v${id}`)
        model.set(id, `v${id}`)
      }
      const open = [...model.keys()]
      for (let i = rand(open.length + 1); i > 0; i--) {
        const id = open[rand(open.length)] as number
        expect(table.delete(id)).toBe(model.delete(id))
      }
      expect(table.size).toBe(model.size)
    }
    for (const [id, v] of model) expect(table.get(id)).toBe(v)
    expect(table.values().sort()).toEqual([...model.values()].sort())
    expect(table.get(next)).toBeUndefined()
    expect(table.delete(next)).toBe(false)
  })

  it('keeps calls that wait while many newer ids come and go (ring growth, then overflow)', () => {
    const table = new CallTable<number>()
    const longWaiting = [1, 2, 65, 129, 4097]
    for (const id of longWaiting) table.set(id, id)
    // 20,000 short calls pass by, each colliding with the long ones' slots now and then.
    for (let id = 5000; id < 25_000; id++) {
      table.set(id, id)
      expect(table.get(id)).toBe(id)
      table.delete(id)
    }
    for (const id of longWaiting) expect(table.get(id)).toBe(id)
    expect(table.size).toBe(longWaiting.length)
    table.set(65, -65)
    expect(table.get(65)).toBe(-65)
    expect(table.values().sort((a, b) => a - b)).toEqual([-65, 1, 2, 129, 4097])
    // forEach reaches ring and overflow entries alike, each with its own id.
    const pairs: [number, number][] = []
    table.forEach((value, id) => {
      pairs.push([id, value])
    })
    expect(pairs.sort((a, b) => a[0] - b[0])).toEqual([
      [1, 1],
      [2, 2],
      [65, -65],
      [129, 129],
      [4097, 4097],
    ])
    table.clear()
    expect(table.size).toBe(0)
    expect(table.get(1)).toBeUndefined()
  })
})
