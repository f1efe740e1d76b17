import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'
import { type ChildHandle, spawnTs, tempDir, waitFor } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { listSegments } from '../../src/gc.js'
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.js'

const fixture = fileURLToPath(new URL('../fixtures/hold-bus.ts', import.meta.url))
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A bus process killed together with its broker, so nobody removes its link segment. */
async function leaveStaleSegment(): Promise<{ broker: BrokerProcess; pid: number }> {
  const broker = await startBrokerProcess()
  cleanups.push(() => broker.stop())
  const holder: ChildHandle = spawnTs(fixture, [broker.url])
  cleanups.push(() => void holder.kill('SIGKILL'))
  await holder.waitForLine('ready')
  // Freeze the bus first so it cannot clean up when it sees its broker die.
  holder.process.kill('SIGSTOP')
  await broker.child.kill('SIGKILL')
  await holder.kill('SIGKILL')
  const pid = holder.process.pid as number
  expect(listSegments().some((s) => s.creatorPid === pid && !s.creatorAlive)).toBe(true)
  return { broker, pid }
}

describe('shm lifecycle', () => {
  it('a bus starts a broker in the background, and the broker leaves when idle', async () => {
    const dir = tempDir('unipc-shm-auto-')
    cleanups.push(dir.cleanup)
    const url = `shm://auto?dir=${dir.path}&idle=200`
    const a = await connect(url)
    const b = await connect(url)
    await b.requests.serve('twice', (n: number) => n * 2)
    expect(await a.requests.call('twice', 21)).toBe(42)
    expect(existsSync(join(dir.path, 'auto.sock'))).toBe(true)
    await a.close()
    await b.close()
    await waitFor(() => !existsSync(join(dir.path, 'auto.sock')))
  })

  it('stale segments of a killed process are swept when a bus starts', async () => {
    const { broker, pid } = await leaveStaleSegment()
    const bus = await connect(`${broker.url}&idle=200`)
    cleanups.push(() => bus.close())
    expect(listSegments().some((s) => s.creatorPid === pid)).toBe(false)
  })

  it('unipc-shm ls lists segments and unipc-shm gc removes those of dead processes', async () => {
    const { broker, pid } = await leaveStaleSegment()
    const ls = spawnTs(cli, ['ls'])
    await ls.exited
    expect(ls.stdout()).toMatch(new RegExp(`link\\t\\d+ bytes\\tmode 600\\tpid ${pid} dead`))
    const gc = spawnTs(cli, ['gc', '--dir', broker.dir])
    await gc.exited
    expect(gc.stdout()).toMatch(/removed \/unipc-/)
    expect(listSegments().some((s) => s.creatorPid === pid)).toBe(false)
  })
})
