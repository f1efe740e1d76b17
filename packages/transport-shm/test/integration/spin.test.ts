import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'
import { spawnTs } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'
import type { ShmSpinStats, ShmTransport } from '../../src/index.js'
import { startBrokerProcess } from '../helpers/broker-process.js'

// The busy-poll before sleeping (the `spin` option, see the README): between two processes, a
// burst of calls is delivered by polling (no doorbell, no wake-up), and once the budget after the
// last message is spent both processes sleep again: an idle second costs them (almost) no CPU.
const fixture = fileURLToPath(new URL('../fixtures/spin-server.ts', import.meta.url))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface ChildReport {
  readonly cpuUs: number
  readonly spin: ShmSpinStats
}

/** CPU time (µs) this process has used so far. */
function cpuUs(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

describe('busy-poll before sleeping (spin)', () => {
  it('a burst of calls is delivered by polling; an idle second after it burns no CPU on either side', {
    timeout: 60_000,
  }, async () => {
    // A 20 ms budget: every message of a sequential burst arrives while the other side polls,
    // and a process that kept polling after it would burn most of the idle second measured below
    // (a stray message in that second, from the broker say, costs one window at most).
    const broker = await startBrokerProcess('&spin=20000')
    const child = spawnTs(fixture, [broker.url])
    const bus = await connect(broker.url)
    try {
      await child.waitForLine('ready', 20_000)
      const ask = async (tag: string): Promise<ChildReport> => {
        child.process.stdin?.write(`${tag}\n`)
        const line = await child.waitForLine(new RegExp(`^${tag} `), 10_000)
        return JSON.parse(line.slice(tag.length + 1)) as ChildReport
      }
      const payload = new Uint8Array(64)
      const calls = 2000
      for (let i = 0; i < calls; i++) await bus.requests.call('echo', payload)
      const mine = (bus.transport as ShmTransport).spinStats()
      const theirs = (await ask('burst')).spin
      // Most replies (here) and requests (there) were found by the poll, not by a wake-up.
      expect(mine.deliveries).toBeGreaterThan(calls / 4)
      expect(theirs.deliveries).toBeGreaterThan(calls / 4)

      // Past the budget both sides arm their rings and sleep.
      await sleep(400)
      const before = { mine: cpuUs(), theirs: await ask('idle-start') }
      await sleep(1000)
      const after = { mine: cpuUs(), theirs: await ask('idle-end') }
      const idleMine = after.mine - before.mine
      const idleTheirs = after.theirs.cpuUs - before.theirs.cpuUs
      // A process still polling would use most of this second (>= 300 ms even on a loaded
      // machine, polling yields the CPU to others); a sleeping one a few ms at most.
      expect(idleTheirs).toBeLessThan(100_000)
      expect(idleMine).toBeLessThan(100_000)
      expect(after.theirs.spin.sleeps).toBeGreaterThan(0)
      // The bus still answers at once after sleeping (woken by the doorbell).
      expect(await bus.requests.call('echo', payload)).toEqual(payload)
    } finally {
      await bus.close()
      await child.kill()
      await broker.stop()
    }
  })
})
