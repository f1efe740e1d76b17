import { describe, expect, it } from 'vitest'
import { joinParts, partsLength } from '../../src/parts.js'

describe('parts helpers', () => {
  it('measure and join a message given whole or in parts', () => {
    const whole = Uint8Array.of(1, 2, 3, 4, 5)
    const parts = [Uint8Array.of(1, 2), new Uint8Array(0), Buffer.from([3, 4, 5])]
    expect(partsLength(whole)).toBe(5)
    expect(partsLength(parts)).toBe(5)
    expect(joinParts(whole)).toBe(whole)
    expect([...joinParts(parts)]).toEqual([1, 2, 3, 4, 5])
    expect(partsLength([])).toBe(0)
  })
})
