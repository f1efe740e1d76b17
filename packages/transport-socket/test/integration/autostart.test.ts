import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'
import { spawnTs, tempDir, waitFor } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const racer = fileURLToPath(new URL('../fixtures/autostart-client.ts', import.meta.url))

/** Pids of hub processes listening on `sock` (auto-started ones carry the path in their arguments). */
function hubPids(sock: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  return out
    .split('\n')
    .filter((l) => l.includes('unipc-hub') && l.includes(`unix://${sock}`))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}

describe('auto-start', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })

  it('five processes connecting at once to the embedded default end up with exactly one hub, which outlives them', async () => {
    const dir = tempDir('unipc-auto-')
    const sock = join(dir.path, 'unipc', 'hub.sock')
    cleanups.push(() => {
      for (const pid of hubPids(sock)) process.kill(pid, 'SIGKILL')
      dir.cleanup()
    })
    // No URL: connect() uses the embedded default, a hub socket in $XDG_RUNTIME_DIR/unipc.
    const env = { XDG_RUNTIME_DIR: dir.path, UNIPC_URL: undefined }
    const racers = [1, 2, 3, 4, 5].map((i) => spawnTs(racer, ['default', String(i)], { env }))
    const codes = await Promise.all(racers.map((r) => r.exited))
    expect(codes, racers.map((r) => r.stderr()).join('\n')).toEqual([0, 0, 0, 0, 0])
    // Every hub that lost the race has exited; the winner keeps running after its starters left.
    await waitFor(() => hubPids(sock).length === 1, 15_000)
    const pid = Number(readFileSync(`${sock}.pid`, 'utf8'))
    expect(hubPids(sock)).toEqual([pid])
    expect(statSync(sock).mode & 0o777).toBe(0o600)
    const bus = await connect(`unix://${sock}`, { liveness: false })
    try {
      // All five wrote into the same hub.
      expect(await bus.settings.getAll('race')).toEqual({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 })
    } finally {
      await bus.close()
    }
  })

  it('a stale socket file left by a dead hub is replaced by a new hub', async () => {
    const dir = tempDir('unipc-auto-')
    const sock = join(dir.path, 'hub.sock')
    cleanups.push(() => {
      for (const pid of hubPids(sock)) process.kill(pid, 'SIGKILL')
      dir.cleanup()
    })
    const first = spawnTs(racer, [sock, '1'])
    expect(await first.exited).toBe(0)
    await waitFor(() => hubPids(sock).length === 1)
    for (const pid of hubPids(sock)) process.kill(pid, 'SIGKILL')
    await waitFor(() => hubPids(sock).length === 0)
    expect(existsSync(sock)).toBe(true) // the dead hub left its socket file behind
    const second = spawnTs(racer, [sock, '2'])
    expect(await second.exited, second.stderr()).toBe(0)
    await waitFor(() => hubPids(sock).length === 1)
  })
})
