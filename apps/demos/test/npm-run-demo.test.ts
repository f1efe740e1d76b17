import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@unipc/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const socketLanded = existsSync(join(root, 'packages/transport-socket/src/index.ts'))

describe.skipIf(!socketLanded)('npm run demo on the embedded default', () => {
  // A private runtime dir: the auto-started hub of this test is its own, and is stopped after.
  const runtime = tempDir('unipc-xdg-')
  afterAll(() => {
    const pidFile = join(runtime.path, 'unipc', 'hub.sock.pid')
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      try {
        if (pid > 0) process.kill(pid, 'SIGTERM')
      } catch {
        // Already gone.
      }
    }
    runtime.cleanup()
  })

  it('runs all five demos with no URL and no setup, narrates each and exits 0', {
    timeout: 90_000,
  }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtime.path, NO_COLOR: '1' }
    delete env.UNIPC_URL
    const child = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(out, out).toContain('the embedded default hub')
    for (const name of ['components', 'channel', 'student-system', 'background-server', 'echo-service'])
      expect(out).toMatch(new RegExp(`\\d/5 ${name} — `))
    expect(out).toContain('camera       online: working on its command queue')
    expect(out).toContain('all demos passed')
    expect(code).toBe(0)
  })
})
