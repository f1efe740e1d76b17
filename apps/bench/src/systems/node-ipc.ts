/**
 * Peer: node-ipc, pinned to exactly 9.2.1 (the last release before its protestware), over a unix
 * socket and TCP, with its default JSON messages (payloads travel as latin1 strings of the same
 * length): emit/on for requests, `server.broadcast` for fan-out, and the sender as the server that
 * hands commands to the least busy of four connected workers for the queue.
 * @module
 */
import { join } from 'node:path'
import { scenarioDefs } from '../scenarios.js'
import type { Caller, Closable, RoleContext, System } from '../types.js'

interface IpcConfig {
  readonly dir?: string
  readonly port?: number
}

interface IpcSocket {
  on(event: string, fn: (...args: never[]) => void): void
  emit(event: string, data: unknown): void
}
interface IpcInstance {
  config: Record<string, unknown>
  of: Record<string, IpcSocket>
  server: {
    on(event: string, fn: (data: never, socket: unknown) => void): void
    emit(socket: unknown, event: string, data: unknown): void
    broadcast(event: string, data: unknown): void
    start(): void
    stop(): void
  }
  serve(path: string, cb: () => void): void
  serveNet(host: string, port: number, cb: () => void): void
  connectTo(id: string, path: string, cb: () => void): void
  connectToNet(id: string, host: string, port: number, cb: () => void): void
  disconnect(id: string): void
}

async function instance(id: string): Promise<IpcInstance> {
  const mod = (await import('node-ipc')) as unknown as { default: { IPC: new () => IpcInstance } }
  const ipc = new mod.default.IPC()
  ipc.config.id = id
  ipc.config.silent = true
  ipc.config.retry = 50
  return ipc
}

const latin1 = (p: Uint8Array): string => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')

async function serve(
  config: IpcConfig,
  ctx: RoleContext,
  name: string,
  onStart: (ipc: IpcInstance) => void,
): Promise<IpcInstance> {
  const ipc = await instance(`${name}-${ctx.runId}`)
  await new Promise<void>((resolve) => {
    const started = (): void => {
      onStart(ipc)
      resolve()
    }
    if (config.dir) ipc.serve(join(config.dir, `${ctx.runId}-${name}.sock`), started)
    else ipc.serveNet('127.0.0.1', config.port!, started)
    ipc.server.start()
  })
  return ipc
}

/** Connects to server `name`; resolves once connected when `wait`. */
async function dial(
  config: IpcConfig,
  ctx: RoleContext,
  name: string,
  wait: boolean,
): Promise<{ ipc: IpcInstance; socket: IpcSocket; close: Closable['close'] }> {
  const ipc = await instance(`client-${ctx.index}-${ctx.runId}`)
  const id = `${name}-${ctx.runId}`
  await new Promise<void>((resolve) => {
    const cb = (): void => {
      if (!wait) resolve()
      else ipc.of[id]!.on('connect', () => resolve())
    }
    if (config.dir) ipc.connectTo(id, join(config.dir, `${ctx.runId}-${name}.sock`), cb)
    else ipc.connectToNet(id, '127.0.0.1', config.port!, cb)
  })
  return { ipc, socket: ipc.of[id]!, close: () => ipc.disconnect(id) }
}

function requester(
  emit: (data: unknown) => void,
  onReply: (fn: (data: { i: number; p?: string }) => void) => void,
): Omit<Caller, 'close'> {
  const pending = new Map<number, (v: unknown) => void>()
  let next = 0
  onReply((d) => {
    pending.get(d.i)?.(d.p ?? '')
    pending.delete(d.i)
  })
  return {
    call: (payload) =>
      new Promise((resolve) => {
        const i = next++
        pending.set(i, resolve)
        emit({ i, p: latin1(payload) })
      }),
  }
}

function nodeIpcSystem(link: 'unix' | 'tcp'): System<IpcConfig> {
  return {
    name: `node-ipc ${link}`,
    group: 'peer',
    link,
    description: `node-ipc 9.2.1 over ${link === 'unix' ? 'a unix socket' : 'TCP'}, default JSON messages`,
    packages: ['node-ipc'],
    scenarios: {
      rtt: true,
      throughput: true,
      fanout: true,
      stream:
        'node-ipc has no flow control: emit never pushes back, so there is no "as fast as flow control allows"',
      large: true,
      queue: true,
    },
    async setup(env) {
      await import('node-ipc')
      return link === 'unix' ? { dir: env.tempDir() } : { port: await env.freePort() }
    },
    preload: () => import('node-ipc'),
    async echoServer(config, ctx) {
      const ipc = await serve(config, ctx, 'echo', (i) =>
        i.server.on('req', (data, socket) => i.server.emit(socket, 'res', data)),
      )
      return { close: () => ipc.server.stop() }
    },
    async caller(config, ctx) {
      const c = await dial(config, ctx, 'echo', true)
      return {
        ...requester(
          (d) => c.socket.emit('req', d),
          (fn) => c.socket.on('res', fn),
        ),
        close: c.close,
      }
    },
    async publisher(config, ctx) {
      const ipc = await serve(config, ctx, 'pub', () => {})
      return {
        publish: (payload) => ipc.server.broadcast('ev', latin1(payload)),
        close: () => ipc.server.stop(),
      }
    },
    async subscriber(config, ctx, onEvent) {
      const c = await dial(config, ctx, 'pub', true)
      c.socket.on('ev', (data: string) => onEvent(Buffer.from(data, 'latin1')))
      return { close: c.close }
    },
    async worker(config, ctx) {
      // The sender is the server here and starts after the workers: node-ipc retries until it is up.
      const c = await dial(config, ctx, 'queue', false)
      c.socket.on('cmd', (d: { i: number }) => c.socket.emit('ack', { i: d.i }))
      return { close: c.close }
    },
    async sender(config, ctx) {
      const workers: { socket: unknown; busy: number }[] = []
      const pending = new Map<number, { resolve: (v: unknown) => void; w: { busy: number } }>()
      const ipc = await serve(config, ctx, 'queue', (i) => {
        i.server.on('connect', (socket: never) => workers.push({ socket, busy: 0 }))
        i.server.on('ack', (d: { i: number }) => {
          const p = pending.get(d.i)
          pending.delete(d.i)
          if (p) {
            p.w.busy--
            p.resolve(undefined)
          }
        })
      })
      const deadline = Date.now() + 10_000
      const n = scenarioDefs.queue.first.count
      while (workers.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      if (workers.length < n) throw new Error(`only ${workers.length} of ${n} workers connected`)
      let next = 0
      return {
        call: (payload) =>
          new Promise((resolve) => {
            let w = workers[0]!
            for (const x of workers) if (x.busy < w.busy) w = x
            w.busy++
            const i = next++
            pending.set(i, { resolve, w })
            ipc.server.emit(w.socket, 'cmd', { i, p: latin1(payload) })
          }),
        close: () => ipc.server.stop(),
      }
    },
  }
}

/** node-ipc over a unix socket and TCP. */
export const systems: System[] = [nodeIpcSystem('unix') as System, nodeIpcSystem('tcp') as System]
