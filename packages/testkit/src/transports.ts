/**
 * The cross-process transports a test can run on: socket (a hub started by the test), Redis (a
 * redis-server started by the test) and shm (a private bus in a temp dir). A transport whose
 * package has not landed in this checkout, or whose server binary is missing, is reported with a
 * reason so the test can skip it visibly.
 * @module
 */

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from './misc.js'
import { startRedis } from './redis.js'

/** A running transport for one test file. */
export interface RunningTransport {
  /** The URL buses and child processes connect to. */
  readonly url: string
  /** Stops what was started and removes temp files. Idempotent. */
  stop(): Promise<void>
}

/** One transport a test may run on. */
export interface TransportCase {
  readonly name: 'socket' | 'redis' | 'shm'
  /** Why it cannot run here (skip the test and say so), or undefined when it can. */
  readonly skip: string | undefined
  /** Starts it (only when `skip` is undefined). */
  start(): Promise<RunningTransport>
}

const packagesDir = fileURLToPath(new URL('../../', import.meta.url))

function landed(pkg: string): boolean {
  return existsSync(join(packagesDir, pkg, 'src', 'index.ts'))
}

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The socket, Redis and shm transports, each with a skip reason when it cannot run here. */
export function crossProcessTransports(): TransportCase[] {
  return [
    {
      name: 'socket',
      skip: landed('transport-socket') ? undefined : 'packages/transport-socket has not landed',
      async start() {
        const dir = tempDir('unipc-hub-')
        const mod = (await import('@unipc/transport-socket' as string)) as {
          startHub(o: { listen: string[] }): Promise<{ close(): Promise<void> }>
        }
        const url = `unix://${join(dir.path, 'hub.sock')}`
        const hub = await mod.startHub({ listen: [url] })
        let stopped: Promise<void> | undefined
        return {
          url,
          stop: () => {
            stopped ??= hub.close().finally(dir.cleanup)
            return stopped
          },
        }
      },
    },
    {
      name: 'redis',
      skip: !landed('transport-redis')
        ? 'packages/transport-redis has not landed'
        : onPath('redis-server')
          ? undefined
          : 'redis-server is not installed (apt-get install redis-server)',
      async start() {
        const redis = await startRedis({ port: false })
        return { url: redis.unixUrl, stop: () => redis.stop() }
      },
    },
    {
      name: 'shm',
      skip: landed('transport-shm') ? undefined : 'packages/transport-shm has not landed',
      async start() {
        const dir = tempDir('unipc-shm-')
        const url = `shm://t${randomBytes(4).toString('hex')}?dir=${encodeURIComponent(dir.path)}&idle=500`
        return { url, stop: async () => dir.cleanup() }
      },
    },
  ]
}
