/**
 * Baseline: what you would write by hand with node:net — 4-byte length + msgpack frames, writes
 * batched per tick — over a unix socket and over TCP. No broker: the echo server, the publisher and
 * the workers listen, and the command sender dispatches to the least busy worker directly.
 * @module
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { scenarioDefs } from '../scenarios.js'
import type { Caller, Closable, Link, RoleContext, System } from '../types.js'
import { encodeFrame, FrameWriter, onFrames } from './lib/length-prefixed.js'

interface NetConfig {
  /** Unix: the directory for socket files. */
  readonly dir?: string
  /** TCP: base port; role `i` listens on `port + i`. */
  readonly port?: number
}

type Address = { path: string } | { port: number; host: string }

function address(config: NetConfig, ctx: RoleContext, name: string, index = 0): Address {
  if (config.dir) return { path: join(config.dir, `${ctx.runId}-${name}${index}.sock`) }
  return { port: config.port! + index, host: '127.0.0.1' }
}

function listen(addr: Address, onSocket: (s: Socket) => void): Promise<Closable> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    s.setNoDelay(true)
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    onSocket(s)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(addr, () =>
      resolve({
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      }),
    )
  })
}

function dial(addr: Address): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(addr)
    s.setNoDelay(true)
    s.once('connect', () => {
      s.off('error', reject)
      s.on('error', () => {})
      resolve(s)
    })
    s.once('error', reject)
  })
}

/** A request/reply client over one connection, correlating replies by id. */
function client(socket: Socket): Caller {
  const writer = new FrameWriter(socket)
  const pending = new Map<number, (v: unknown) => void>()
  let nextId = 0
  onFrames(socket, (frame) => {
    const [id, body] = frame as [number, unknown]
    const done = pending.get(id)
    pending.delete(id)
    done?.(body)
  })
  return {
    call(payload) {
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        writer.write([id, payload])
      })
    },
    close: () => void socket.destroy(),
  }
}

function netSystem(link: Link, setup: System<NetConfig>['setup']): System<NetConfig> {
  return {
    name: `net-msgpack ${link}`,
    group: 'baseline',
    link,
    description: `node:net over ${link === 'unix' ? 'a unix socket' : 'TCP'}, 4-byte length + msgpack, writes batched per tick, no broker`,
    packages: ['msgpackr'],
    scenarios: { rtt: true, throughput: true, fanout: true, stream: true, large: true, queue: true },
    setup,
    echoServer: (config, ctx) =>
      listen(address(config, ctx, 'echo'), (s) => {
        const writer = new FrameWriter(s)
        onFrames(s, (frame) => writer.write(frame))
      }),
    caller: async (config, ctx) => client(await dial(address(config, ctx, 'echo'))),
    publisher: async (config, ctx) => {
      const writers = new Set<FrameWriter>()
      const server = await listen(address(config, ctx, 'pub'), (s) => {
        const w = new FrameWriter(s)
        writers.add(w)
        s.on('close', () => writers.delete(w))
      })
      return {
        publish(payload) {
          const frame = encodeFrame(payload)
          for (const w of writers) w.writeEncoded(frame)
        },
        close: () => server.close(),
      }
    },
    subscriber: async (config, ctx, onEvent) => {
      const s = await dial(address(config, ctx, 'pub'))
      onFrames(s, (frame) => onEvent(frame as Uint8Array))
      return { close: () => void s.destroy() }
    },
    streamServer: (config, ctx, payload) =>
      listen(address(config, ctx, 'stream'), (s) => {
        const writer = new FrameWriter(s)
        // Write until the socket buffer is full, then wait for 'drain': node:net's own flow control.
        const pump = (): void => {
          if (s.destroyed) return
          for (let i = 0; i < 1024; i++) {
            writer.write(payload)
            if (writer.needsDrain) {
              s.once('drain', pump)
              return
            }
          }
          setImmediate(pump)
        }
        pump()
      }),
    streamClient: async (config, ctx, onEvent) => {
      const s = await dial(address(config, ctx, 'stream'))
      onFrames(s, (frame) => onEvent(frame as Uint8Array))
      return { close: () => void s.destroy() }
    },
    worker: (config, ctx) =>
      listen(address(config, ctx, 'worker', ctx.index), (s) => {
        const writer = new FrameWriter(s)
        onFrames(s, (frame) => writer.write([(frame as [number])[0]]))
      }),
    sender: async (config, ctx) => {
      const n = scenarioDefs.queue.first.count
      const workers = await Promise.all(
        Array.from({ length: n }, async (_, i) => ({
          caller: client(await dial(address(config, ctx, 'worker', i))),
          busy: 0,
        })),
      )
      return {
        async call(payload) {
          // Least busy worker first: what a hand-written dispatcher does.
          let w = workers[0]!
          for (const x of workers) if (x.busy < w.busy) w = x
          w.busy++
          try {
            return await w.caller.call(payload)
          } finally {
            w.busy--
          }
        },
        close: () => {
          for (const w of workers) w.caller.close()
        },
      }
    },
  }
}

/** node:net over a unix socket and over TCP. */
export const systems: System[] = [
  netSystem('unix', async (env) => ({ dir: env.tempDir() })) as System,
  // Role i listens on port + i (the four queue workers: 0..3).
  netSystem('tcp', async (env) => ({ port: await env.freePortRange(4) })) as System,
]
