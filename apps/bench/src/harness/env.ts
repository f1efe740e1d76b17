/**
 * The {@link SetupEnv} given to systems' `setup`: temp dirs, free ports, a shared redis-server and
 * service processes, all stopped by `teardownAll()` at the end of the benchmark run.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, spawnTs, startRedis } from '@unipc/testkit'
import type { SetupEnv } from '../types.js'

/** A SetupEnv plus the teardown of everything it started. */
export interface HarnessEnv extends SetupEnv {
  teardownAll(): Promise<void>
}

/** Creates the environment shared by every system of one benchmark run. */
export function createEnv(): HarnessEnv {
  const teardowns: (() => Promise<void> | void)[] = []
  let redis: Promise<{ port: number; socket: string }> | undefined
  const env: HarnessEnv = {
    tempDir() {
      // Short paths: unix socket paths are limited to 107 bytes.
      const dir = mkdtempSync(join(tmpdir(), 'ub-'))
      teardowns.push(() => rmSync(dir, { recursive: true, force: true }))
      return dir
    },
    freePort,
    async freePortRange(n) {
      for (;;) {
        const port = await freePort()
        const range = Array.from({ length: n }, (_, i) => port + i)
        if (range.includes(6379) || port + n > 65535) continue
        const free = await Promise.all(range.slice(1).map(canListen))
        if (free.every(Boolean)) return port
      }
    },
    async redis() {
      // One redis-server for the whole run: every Redis-based system measures against the same one.
      redis ??= (async () => {
        // Fan-out pushes many events at subscribers: keep Redis from disconnecting them at its
        // default pub/sub output limits (the harness's credit window bounds what is in flight).
        const server = await startRedis({ args: ['--client-output-buffer-limit', 'pubsub 256mb 128mb 60'] })
        teardowns.push(() => server.stop())
        return { port: server.port, socket: server.socketPath }
      })()
      const r = await redis
      return { port: r.port, socket: r.socket }
    },
    async spawnService(file, args, ready) {
      // A built .js service runs on plain node (its workspace imports resolve to dist/).
      const child = spawnTs(file, args, { tsx: !file.endsWith('.js') })
      teardowns.push(async () => {
        await child.kill('SIGTERM')
      })
      await child.waitForLine(ready, 20_000)
      return { stop: async () => void (await child.kill('SIGTERM')) }
    },
    onTeardown(fn) {
      teardowns.push(fn)
    },
    async teardownAll() {
      for (const fn of teardowns.reverse()) {
        try {
          await fn()
        } catch {
          // Best effort: one failing cleanup must not keep the others from running.
        }
      }
      teardowns.length = 0
    },
  }
  return env
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}
