/**
 * Baseline: plain ioredis doing the same jobs by hand, as the Redis transport's issue compares:
 * requests and the queue on lists (LPUSH a msgpack [replyList, id, payload], a BRPOP loop on a blocking
 * connection, the reply LPUSHed to the caller's list), fan-out with PUBLISH/SUBSCRIBE.
 * @module
 */
import type { Redis as RedisClient } from 'ioredis'
import { Packr } from 'msgpackr'
import type { Caller, Closable, Link, RoleContext, System } from '../types.js'

interface RedisConfig {
  readonly socket?: string
  readonly port?: number
}

const packr = new Packr({ useRecords: false })

async function client(config: RedisConfig): Promise<RedisClient> {
  const { Redis } = await import('ioredis')
  const r = config.socket
    ? new Redis({ path: config.socket })
    : new Redis({ port: config.port!, host: '127.0.0.1' })
  await r.ping()
  return r
}

/** Pops `list` forever on its own blocking connection, handing each item to `onItem`, until closed. */
async function popLoop(config: RedisConfig, list: string, onItem: (item: Buffer) => void): Promise<Closable> {
  const blocking = await client(config)
  let closed = false
  const loop = (async () => {
    while (!closed) {
      try {
        const r = await blocking.brpopBuffer(list, 0)
        if (r) onItem(r[1])
      } catch {
        if (!closed) await new Promise((res) => setTimeout(res, 10))
      }
    }
  })()
  return {
    close: async () => {
      closed = true
      blocking.disconnect()
      await loop
    },
  }
}

/** Replies to `[replyList, id, ...]` items popped from `list`; `reply` makes the reply body. */
async function listServer(
  config: RedisConfig,
  list: string,
  reply: (item: unknown[]) => unknown[],
): Promise<Closable> {
  const writer = await client(config)
  const loop = await popLoop(config, list, (buf) => {
    const item = packr.unpack(buf) as unknown[]
    void writer.lpush(item[0] as string, packr.pack(reply(item)))
  })
  return {
    close: async () => {
      await loop.close()
      writer.disconnect()
    },
  }
}

/** A caller that LPUSHes requests to `list` and BRPOPs replies from its own list. */
async function listCaller(config: RedisConfig, list: string, ctx: RoleContext): Promise<Caller> {
  const writer = await client(config)
  const replies = `bench:reply:${ctx.runId}:${process.pid}`
  const pending = new Map<number, (v: unknown) => void>()
  let next = 0
  const loop = await popLoop(config, replies, (buf) => {
    const [id, body] = packr.unpack(buf) as [number, unknown]
    pending.get(id)?.(body)
    pending.delete(id)
  })
  return {
    call: (payload) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, resolve)
        writer.lpush(list, packr.pack([replies, id, payload])).catch(reject)
      }),
    close: async () => {
      await loop.close()
      writer.disconnect()
    },
  }
}

function ioredisSystem(link: 'unix' | 'tcp'): System<RedisConfig> {
  const l: Link = link === 'unix' ? 'redis-unix' : 'redis-tcp'
  return {
    name: `ioredis ${link}`,
    group: 'baseline',
    link: l,
    description: `plain ioredis on ${link === 'unix' ? 'a unix socket' : 'TCP'}: lists (LPUSH + BRPOP loop) for requests and the queue, PUBLISH/SUBSCRIBE for fan-out`,
    packages: ['ioredis'],
    scenarios: {
      rtt: true,
      throughput: true,
      fanout: true,
      stream: 'plain Redis has no flow-controlled push stream (PUBLISH is measured in fan-out)',
      large: true,
      queue: true,
    },
    async setup(env) {
      await import('ioredis')
      const r = await env.redis()
      return link === 'unix' ? { socket: r.socket } : { port: r.port }
    },
    preload: () => import('ioredis'),
    echoServer: (config, ctx) => listServer(config, `bench:echo:${ctx.runId}`, (item) => [item[1], item[2]]),
    caller: (config, ctx) => listCaller(config, `bench:echo:${ctx.runId}`, ctx),
    async publisher(config, ctx) {
      const r = await client(config)
      const channel = `bench.fanout.${ctx.runId}`
      return {
        publish: (payload) => r.publish(channel, Buffer.from(payload)).then(() => {}),
        close: () => void r.disconnect(),
      }
    },
    async subscriber(config, ctx, onEvent) {
      const r = await client(config)
      r.on('messageBuffer', (_channel: Buffer, message: Buffer) => onEvent(message))
      await r.subscribe(`bench.fanout.${ctx.runId}`)
      return { close: () => void r.disconnect() }
    },
    worker: (config, ctx) => listServer(config, `bench:queue:${ctx.runId}`, (item) => [item[1]]),
    sender: (config, ctx) => listCaller(config, `bench:queue:${ctx.runId}`, ctx),
  }
}

/** Plain ioredis over a unix socket and over TCP. */
export const systems: System[] = [ioredisSystem('unix') as System, ioredisSystem('tcp') as System]
