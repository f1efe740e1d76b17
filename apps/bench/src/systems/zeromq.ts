/**
 * Peer: zeromq 6 (the libzmq binding) over ipc (a unix socket) and TCP: DEALER -> ROUTER for
 * requests, PUB/SUB for fan-out, PUSH/PULL (its high-water mark is the flow control) for stream, and
 * a binding DEALER that round-robins commands to four connected DEALER workers for the queue.
 * @module
 */
import { join } from 'node:path'
import type { Caller, Closable, RoleContext, System } from '../types.js'

type Zmq = typeof import('zeromq')
type Sock = InstanceType<Zmq['Dealer']>

interface ZmqConfig {
  readonly dir?: string
  readonly port?: number
}

const zmq = (): Promise<Zmq> => import('zeromq')

const endpoint = (c: ZmqConfig, ctx: RoleContext, name: string): string =>
  c.dir ? `ipc://${join(c.dir, `${ctx.runId}-${name}.sock`)}` : `tcp://127.0.0.1:${c.port}`

/** zeromq allows one blocked send at a time: queue the rest in order, as its docs recommend. */
function queuedSender(sock: { send(m: Buffer[]): Promise<void> }): (m: Buffer[]) => void {
  const queue: Buffer[][] = []
  let busy = false
  const pump = async (): Promise<void> => {
    busy = true
    try {
      while (queue.length) await sock.send(queue.shift()!)
    } finally {
      busy = false
    }
  }
  return (m) => {
    queue.push(m)
    if (!busy) void pump().catch(() => {})
  }
}

/** Runs `onMessage` for every message until the socket closes. */
function receiveLoop(sock: AsyncIterable<Buffer[]>, onMessage: (m: Buffer[]) => void): void {
  void (async () => {
    try {
      for await (const m of sock) onMessage(m)
    } catch {
      // The socket was closed.
    }
  })()
}

const closer = (...socks: { close(): void }[]): Closable => ({
  close: () => {
    for (const s of socks) s.close()
  },
})

/** A DEALER that correlates replies by a 4-byte id frame. */
function dealerCaller(sock: Sock): Caller {
  const send = queuedSender(sock)
  const pending = new Map<number, (v: unknown) => void>()
  let next = 0
  receiveLoop(sock, ([id, body]) => {
    const n = id!.readUInt32BE(0)
    pending.get(n)?.(body ?? Buffer.alloc(0))
    pending.delete(n)
  })
  return {
    call: (payload) =>
      new Promise((resolve) => {
        const id = Buffer.allocUnsafe(4)
        const n = next++ >>> 0
        id.writeUInt32BE(n, 0)
        pending.set(n, resolve)
        send([id, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)])
      }),
    close: () => sock.close(),
  }
}

function zmqSystem(link: 'ipc' | 'tcp'): System<ZmqConfig> {
  return {
    name: `zeromq ${link}`,
    group: 'peer',
    link: link === 'ipc' ? 'ipc' : 'tcp',
    description: `zeromq ${link === 'ipc' ? 'ipc:// (unix socket)' : 'tcp://'}: DEALER/ROUTER requests, PUB/SUB fan-out, PUSH/PULL stream, DEALER round-robin queue`,
    packages: ['zeromq'],
    scenarios: { rtt: true, throughput: true, fanout: true, stream: true, large: true, queue: true },
    async setup(env) {
      await zmq()
      return link === 'ipc' ? { dir: env.tempDir() } : { port: await env.freePort() }
    },
    preload: zmq,
    async echoServer(config, ctx) {
      const { Router } = await zmq()
      const sock = new Router({ linger: 0 })
      await sock.bind(endpoint(config, ctx, 'echo'))
      const send = queuedSender(sock)
      receiveLoop(sock, (m) => send(m))
      return closer(sock)
    },
    async caller(config, ctx) {
      const { Dealer } = await zmq()
      const sock = new Dealer({ linger: 0 })
      sock.connect(endpoint(config, ctx, 'echo'))
      return dealerCaller(sock)
    },
    async publisher(config, ctx) {
      const { Publisher } = await zmq()
      // The harness keeps at most 4096 events in flight; a high-water mark above it drops nothing.
      const sock = new Publisher({ linger: 0, sendHighWaterMark: 10_000 })
      await sock.bind(endpoint(config, ctx, 'pub'))
      const send = queuedSender(sock)
      return { publish: (payload) => send([Buffer.from(payload)]), close: () => sock.close() }
    },
    async subscriber(config, ctx, onEvent) {
      const { Subscriber } = await zmq()
      const sock = new Subscriber({ linger: 0, receiveHighWaterMark: 10_000 })
      sock.connect(endpoint(config, ctx, 'pub'))
      sock.subscribe()
      receiveLoop(sock, ([m]) => onEvent(m!))
      return closer(sock)
    },
    async streamServer(config, ctx, payload) {
      const { Push } = await zmq()
      const sock = new Push({ linger: 0 })
      await sock.bind(endpoint(config, ctx, 'stream'))
      let closed = false
      const buf = Buffer.from(payload)
      void (async () => {
        try {
          // send() waits while the high-water mark is reached: zeromq's flow control.
          while (!closed) await sock.send(buf)
        } catch {
          // Closed.
        }
      })()
      return {
        close: () => {
          closed = true
          sock.close()
        },
      }
    },
    async streamClient(config, ctx, onEvent) {
      const { Pull } = await zmq()
      const sock = new Pull({ linger: 0 })
      sock.connect(endpoint(config, ctx, 'stream'))
      receiveLoop(sock, ([m]) => onEvent(m!))
      return closer(sock)
    },
    async worker(config, ctx) {
      const { Dealer } = await zmq()
      const sock = new Dealer({ linger: 0 })
      sock.connect(endpoint(config, ctx, 'queue'))
      const send = queuedSender(sock)
      receiveLoop(sock, ([id]) => send([id!]))
      return closer(sock)
    },
    async sender(config, ctx) {
      const { Dealer } = await zmq()
      const sock = new Dealer({ linger: 0 })
      await sock.bind(endpoint(config, ctx, 'queue'))
      // Wait until the four workers are connected, or the first commands all go to one of them.
      let connected = 0
      sock.events.on('accept', () => {
        connected++
      })
      const deadline = Date.now() + 5_000
      while (connected < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      return dealerCaller(sock)
    },
  }
}

/** zeromq over ipc and TCP. */
export const systems: System[] = [zmqSystem('ipc') as System, zmqSystem('tcp') as System]
