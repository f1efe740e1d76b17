import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { ConnectionError } from '@unipc/core'
import { silentLogger } from '@unipc/core/spi'
import { type ChildHandle, spawnTs, tempDir, waitFor } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../src/broker-server.js'
import { busPaths } from '../../src/paths.js'
import { startBrokerProcess } from '../helpers/broker-process.js'
import { trackedResources } from '../helpers/tracked.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

/** What the `echo` command worker answers. */
interface EchoReply {
  readonly cmd: unknown
  readonly redelivered: boolean
  readonly pid: number
  readonly peak: number
}

const t = trackedResources()

async function worker(url: string, concurrency: number, mode: 'hang' | 'echo'): Promise<ChildHandle> {
  const c = t.child(spawnTs(fixture('command-worker.ts'), [url, String(concurrency), mode]))
  await c.waitForLine('ready', 20_000)
  return c
}

const took = (c: ChildHandle): number => (c.stdout().match(/^took /gm) ?? []).length

describe('shm commands across processes', () => {
  it('commands held by a SIGKILLed worker process go to another worker, flagged redelivered', async () => {
    const hang = await worker(t.broker().url, 4, 'hang')
    const sender = await t.bus(t.broker().url)
    const replies = [1, 2, 3, 4].map((n) => sender.commands.send(`worker`, `c${n}`, { timeout: 30_000 }))
    await waitFor(() => took(hang) === 4)
    const other = await t.bus(t.broker().url, 'worker')
    await other.commands.handle((cmd, ctx) => ({ cmd, redelivered: ctx.redelivered }), { concurrency: 4 })
    await hang.kill('SIGKILL')
    expect(await Promise.all(replies)).toEqual([1, 2, 3, 4].map((n) => ({ cmd: `c${n}`, redelivered: true })))
  }, 60_000)

  it('600 commands over two worker processes, one SIGKILLed midway: every command is answered, none beyond its worker concurrency', async () => {
    const a = await worker(t.broker().url, 3, 'echo')
    const b = await worker(t.broker().url, 3, 'echo')
    const sender = await t.bus(t.broker().url)
    const n = 600
    const sends = Array.from({ length: n }, (_, i) =>
      sender.commands.send<EchoReply>('worker', i, { timeout: 30_000 }),
    )
    await waitFor(() => took(a) >= 50, 20_000, 5)
    await a.kill('SIGKILL')
    const replies = await Promise.all(sends)
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(Math.max(...replies.map((r) => r.peak))).toBeLessThanOrEqual(3)
    // What the killed worker held came back flagged, and only the survivor ran it.
    const redelivered = replies.filter((r) => r.redelivered)
    expect(redelivered.length).toBeGreaterThan(0)
    expect(redelivered.every((r) => r.pid === b.process.pid)).toBe(true)
  }, 60_000)

  it('fire-and-forget commands the broker had not acknowledged when it was SIGKILLed fail with ConnectionError; commands flow again with the next broker', async () => {
    const own = await startBrokerProcess('&idle=200')
    try {
      const handler = await t.bus(own.url, 'worker')
      await handler.commands.handle((n: number) => n + 1)
      const sender = await t.bus(own.url)
      expect(await sender.commands.send('worker', 1)).toBe(2)
      // Frozen: the pushes reach its ring but it never acknowledges them.
      own.child.process.kill('SIGSTOP')
      const pushes = [1, 2, 3].map((n) =>
        sender.commands.send('worker', n, { noReply: true }).then(
          () => 'accepted',
          (err: unknown) => err,
        ),
      )
      await new Promise((r) => setTimeout(r, 100))
      await own.child.kill('SIGKILL')
      for (const outcome of await Promise.all(pushes)) expect(outcome).toBeInstanceOf(ConnectionError)
      // The worker registered again with the broker the buses started in the background.
      await waitFor(
        async () => (await sender.commands.send('worker', 41, { timeout: 2000 }).catch(() => 0)) === 42,
        45_000,
      )
    } finally {
      await t.closeBuses()
      await own.stop()
    }
  }, 90_000)

  it('a broker that announces only per-command pushes and acks (an earlier version) still runs commands, fire-and-forget ones and redeliveries', async () => {
    const dir = tempDir('unipc-shm-test-')
    const name = `q${randomBytes(4).toString('hex')}`
    const running = await startBroker(busPaths(name, dir.path), { logger: silentLogger, queueProtocol: 1 })
    const url = `shm://${name}?dir=${dir.path}`
    try {
      const sender = await t.bus(url)
      const first = await t.bus(url, 'worker', { drainTimeout: 50 })
      const started = new Promise<void>((resolve) =>
        first.commands.handle(() => {
          resolve()
          return new Promise(() => {}) // holds its command until its bus closes
        }),
      )
      const held = sender.commands.send('worker', 'held', { timeout: 30_000 })
      await started
      const second = await t.bus(url, 'worker')
      const ran: number[] = []
      await second.commands.handle((cmd: unknown, ctx) => {
        if (typeof cmd === 'number') ran.push(cmd)
        return { cmd, redelivered: ctx.redelivered }
      })
      await first.close()
      expect(await held).toEqual({ cmd: 'held', redelivered: true })
      for (let i = 0; i < 20; i++) await sender.commands.send('worker', i, { noReply: true })
      await waitFor(() => ran.length === 20)
      expect(ran).toEqual(Array.from({ length: 20 }, (_, i) => i))
    } finally {
      await t.closeBuses()
      await running?.close()
      dir.cleanup()
    }
  }, 60_000)
})
