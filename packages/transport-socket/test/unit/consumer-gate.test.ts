import type { Delivery } from '@unipc/core/spi'
import { describe, expect, it } from 'vitest'
import { ConsumerGate, type GatedDelivery } from '../../src/client/consumer-gate.js'

/** A delivery that records what happened to it. */
function delivery(n: number, log: string[]): GatedDelivery & { gone: boolean } {
  return {
    data: Uint8Array.of(n),
    redelivered: false,
    gone: false,
    get void() {
      return this.gone
    },
    ack: () => log.push(`ack ${n}`),
    giveBack: () => log.push(`back ${n}`),
  }
}

describe('consumer gate', () => {
  it('runs at most `concurrency` at once, the rest in arrival order; skips void ones; gives back on stop', () => {
    const log: string[] = []
    const running: Delivery[] = []
    const gate = new ConsumerGate(2, (d) => {
      log.push(`run ${(d.data as Uint8Array)[0]}`)
      running.push(d)
    })
    const ds = Array.from({ length: 6 }, (_, i) => delivery(i, log))
    for (const d of ds) gate.offer(d)
    expect(log).toEqual(['run 0', 'run 1'])
    ;(ds[2] as { gone: boolean }).gone = true
    gate.done()
    expect(log).toEqual(['run 0', 'run 1', 'run 3'])
    gate.stop()
    expect(log).toEqual(['run 0', 'run 1', 'run 3', 'back 4', 'back 5'])
    // Stopped: what still finishes frees its place, nothing new runs, late arrivals go back.
    gate.done()
    gate.offer(delivery(7, log))
    expect(log.slice(5)).toEqual(['back 7'])
  })
})
