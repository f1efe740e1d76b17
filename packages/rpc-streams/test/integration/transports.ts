/**
 * The transports the cross-transport scenarios run on. A transport package that does not exist yet
 * (no packages/transport-<x>/src/index.ts) is skipped with that reason.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bus, type ConnectOptions, connect } from '@unipc/core'
import { tempDir } from '@unipc/testkit'

const packagesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** A started transport environment: buses connect to `url`. */
export interface TransportEnv {
  readonly url: string
  /** Connects a bus and remembers it so `close()` closes it. */
  connect(component: string, options?: ConnectOptions): Promise<Bus>
  /** Closes every bus, then the server/broker behind the transport. */
  close(): Promise<void>
}

/** One transport of the matrix. */
export interface TransportCase {
  readonly name: string
  /** Why the transport is skipped, or undefined when it runs. */
  readonly skip: string | undefined
  /** True when buses may live in different processes. */
  readonly crossProcess: boolean
  start(): Promise<TransportEnv>
}

function missing(pkg: string): string | undefined {
  const index = join(packagesDir, pkg, 'src', 'index.ts')
  return existsSync(index) ? undefined : `packages/${pkg}/src/index.ts does not exist yet`
}

function envFor(url: string, stop: () => Promise<void>): TransportEnv {
  const buses: Bus[] = []
  return {
    url,
    async connect(component, options = {}) {
      const bus = await connect(url, { component, ...options })
      buses.push(bus)
      return bus
    },
    async close() {
      await Promise.allSettled(buses.splice(0).map((b) => b.close()))
      await stop()
    },
  }
}

let worlds = 0

export const transports: TransportCase[] = [
  {
    name: 'memory',
    skip: undefined,
    crossProcess: false,
    async start() {
      return envFor(`memory://rpc-streams-${process.pid}-${++worlds}`, async () => {})
    },
  },
  {
    name: 'socket',
    skip: missing('transport-socket'),
    crossProcess: true,
    async start() {
      const { startHub } = await import('@unipc/transport-socket')
      const dir = tempDir('unipc-rpc-')
      const url = `unix://${join(dir.path, 'hub.sock')}`
      const hub = await startHub({ listen: [url] })
      return envFor(url, async () => {
        await hub.close()
        dir.cleanup()
      })
    },
  },
  {
    name: 'redis',
    skip: missing('transport-redis'),
    crossProcess: true,
    async start() {
      const { startRedis } = await import('@unipc/testkit')
      const redis = await startRedis({ port: false })
      // A short worker TTL so a dead server's pending calls are taken over quickly.
      return envFor(`${redis.unixUrl}?workerTtl=500`, () => redis.stop())
    },
  },
  {
    name: 'shm',
    skip: missing('transport-shm'),
    crossProcess: true,
    async start() {
      const dir = tempDir('unipc-rpc-shm-')
      const url = `shm://rpc-${process.pid}-${++worlds}?dir=${encodeURIComponent(dir.path)}`
      return envFor(url, async () => dir.cleanup())
    },
  },
]
