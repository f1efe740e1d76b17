/**
 * Redis connections for rpc-over-redis mode, made with ioredis directly (an optional peer
 * dependency, loaded only when the mode is used). The connection comes from an explicit `redis`
 * option, or from a bus on the Redis transport (its connection options).
 * @module
 */
import { type Bus, InvalidArgumentError } from '@unipc/core'
import type { Redis, RedisOptions } from 'ioredis'

/** Where to connect: a URL (`redis://`, `rediss://`, `redis+unix:///path`), ioredis options, or an ioredis client to duplicate. */
export type RedisTarget = string | RedisOptions | Redis

/** Opens new connections to one Redis. */
export type ConnectionFactory = () => Promise<Redis>

const isClient = (v: unknown): v is Redis =>
  typeof v === 'object' && v !== null && typeof (v as { duplicate?: unknown }).duplicate === 'function'

/**
 * The connection options of a bus on the Redis transport (`bus.transport.config.redisOptions`).
 * @throws InvalidArgumentError when the bus is not on Redis (standalone or sentinel)
 */
export function redisTargetOf(bus: Bus): RedisOptions {
  const transport = bus.transport as unknown as {
    name: string
    config?: { mode?: string; redisOptions?: RedisOptions }
  }
  if (transport.name !== 'redis' || !transport.config?.redisOptions)
    throw new InvalidArgumentError(
      `compat 'rpc-over-redis' needs a bus on the Redis transport (this one is '${transport.name}') or a redis option`,
    )
  if (transport.config.mode === 'cluster')
    throw new InvalidArgumentError("compat 'rpc-over-redis' does not support Redis Cluster")
  return transport.config.redisOptions
}

/** Builds a factory of fresh connections to `target`. */
export function connectionFactory(target: RedisTarget): ConnectionFactory {
  return async () => {
    const Redis = await loadIoredis()
    let client: Redis
    if (isClient(target)) client = target.duplicate()
    else if (typeof target === 'string') client = fromUrl(Redis, target)
    else client = new Redis({ ...target, lazyConnect: true })
    if (client.status === 'wait') await client.connect()
    return client
  }
}

function fromUrl(RedisClass: typeof Redis, url: string): Redis {
  if (url.startsWith('redis+unix:')) {
    const u = new URL(url)
    const db = u.searchParams.get('db')
    return new RedisClass({
      path: decodeURIComponent(u.pathname),
      db: db ? Number(db) : 0,
      lazyConnect: true,
    })
  }
  return new RedisClass(url, { lazyConnect: true })
}

async function loadIoredis(): Promise<typeof Redis> {
  try {
    return (await import('ioredis')).Redis
  } catch (cause) {
    throw new InvalidArgumentError("compat 'rpc-over-redis' needs ioredis: run npm install ioredis", {
      cause,
    })
  }
}
