import { afterEach, describe, expect, it, vi } from 'vitest'
import { DeliveryBatch } from '../../src/memory/delivery-batch.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('memory DeliveryBatch', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('delivers in order, later, and what a delivery enqueues after the batch it runs in', async () => {
    const batch = new DeliveryBatch()
    const seen: string[] = []
    const record = (a: unknown, b: unknown, c: unknown): void => {
      seen.push(`${a}${b}${c}`)
    }
    batch.add(record, 'a', 1, undefined)
    batch.add(
      (a) => {
        seen.push(String(a))
        batch.add(record, 'late', '', '')
        seen.push('b done')
      },
      'b',
      undefined,
      undefined,
    )
    batch.add(record, 'c', 3, '!')
    expect(seen).toEqual([]) // never delivered synchronously (nor re-entrantly)
    await tick()
    expect(seen).toEqual(['a1undefined', 'b', 'b done', 'c3!', 'late'])
  })

  it('keeps delivering after a receiver throws, and still surfaces the error', () => {
    const tasks: (() => void)[] = []
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      tasks.push(task)
    })
    const batch = new DeliveryBatch()
    const seen: unknown[] = []
    batch.add(
      () => {
        throw new Error('boom')
      },
      undefined,
      undefined,
      undefined,
    )
    batch.add((a) => seen.push(a), 'after', undefined, undefined)
    expect(tasks).toHaveLength(1) // one microtask for the batch
    tasks[0]?.()
    expect(seen).toEqual(['after'])
    expect(tasks).toHaveLength(2)
    expect(() => tasks[1]?.()).toThrow('boom')
  })
})
