/**
 * A bus closed while its connections reconnect (redis-server was SIGKILLed and came back) leaves no
 * unhandled rejection behind: Node ends a process on one. The sweep runs in a child process
 * (fixtures/close-while-reconnecting.ts, with its own redis-server) so the rejection would reach
 * Node itself rather than vitest's handler.
 */
import { fileURLToPath } from 'node:url'
import { type ChildHandle, spawnTs } from '@unipc/testkit'
import { afterEach, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../fixtures/close-while-reconnecting.ts', import.meta.url))
let child: ChildHandle | undefined

afterEach(async () => {
  const c = child
  child = undefined
  if (!c) return
  // SIGTERM lets the child stop its redis-server; SIGKILL if it does not exit.
  const timer = setTimeout(() => c.process.kill('SIGKILL'), 5000)
  await c.kill('SIGTERM')
  clearTimeout(timer)
})

interface SweepResult {
  points: string[]
  hit: string[]
  unhandled: { command: string; error: string }[]
}

it('closing buses at each step of their reconnect after redis-server was SIGKILLed leaves no unhandled rejection', {
  timeout: 90_000,
}, async () => {
  const c = spawnTs(script)
  child = c
  const code = await Promise.race([
    c.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('watchdog'), 80_000)),
  ])
  const line = c
    .stdout()
    .split('\n')
    .find((l) => l.startsWith('result '))
  expect(line, `the sweep ended with ${code}; stderr:\n${c.stderr()}`).toBeDefined()
  const result = JSON.parse((line as string).slice('result '.length)) as SweepResult
  // The sweep reached the handshakes and the resubscriptions of the subscriber connections.
  expect(result.hit).toEqual(
    expect.arrayContaining([
      'client:sub info #1',
      'client:sub subscribe #1',
      'watcher:sub psubscribe #1',
      'server:worker info #1',
      'server:server info #1',
    ]),
  )
  expect(result.hit.length).toBeGreaterThanOrEqual(result.points.length * 0.8)
  expect(result.unhandled).toEqual([])
})
