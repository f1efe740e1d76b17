/**
 * The stream driver on a synthetic in-process stream: which events it counts and when it fails.
 * (The clock is read every few events, so counts are checked against what was emitted in the
 * window, not to the event.)
 */
import { describe, expect, it } from 'vitest'
import { driveStream } from '../src/harness/drivers.js'
import type { OnEvent } from '../src/types.js'

/** Emits `perTurn` events of `size` bytes per event-loop turn until closed or `limit` is reached. */
function syntheticStream(size: number, perTurn: number, limit = Number.POSITIVE_INFINITY) {
  const emitted: bigint[] = []
  const open = async (onEvent: OnEvent) => {
    let closed = false
    const payload = new Uint8Array(size)
    const turn = (): void => {
      if (closed) return
      for (let i = 0; i < perTurn && emitted.length < limit; i++) {
        emitted.push(process.hrtime.bigint())
        onEvent(payload)
      }
      if (emitted.length < limit) setImmediate(turn)
    }
    setImmediate(turn)
    return {
      close: () => {
        closed = true
      },
    }
  }
  return { open, emitted }
}

describe('driveStream', () => {
  it('counts the events of the measured window only', async () => {
    const s = syntheticStream(64, 100)
    const t0 = process.hrtime.bigint()
    const r = await driveStream(s.open, 64, { warmupMs: 100, measureMs: 200, window: 0 })
    expect(r.seconds).toBe(0.2)
    // Events emitted between 100 and 300 ms after the first one (give or take the clock stride).
    const first = s.emitted[0]!
    const inWindow = s.emitted.filter((t) => t >= first + 100_000_000n && t < first + 300_000_000n).length
    expect(t0).toBeLessThanOrEqual(first)
    expect(r.ops).toBeGreaterThan(0)
    // The driver's edges are the clock readings of its handler (every 32 events, the first one on
    // cold code), not the emission times: within 2% of the window, where counting the warm-up too
    // (a third of what was emitted before the window closed) would be far off.
    expect(Math.abs(r.ops - inWindow)).toBeLessThanOrEqual(Math.max(200, inWindow * 0.02))
  })

  it('fails on a payload of the wrong size', async () => {
    await expect(
      driveStream(syntheticStream(10, 50).open, 64, { warmupMs: 10, measureMs: 20, window: 0 }),
    ).rejects.toThrow(/10 bytes, expected 64/)
  })
})
