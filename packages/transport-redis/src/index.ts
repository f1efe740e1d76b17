/**
 * `@unipc/transport-redis`: unipc's five facilities over Redis with ioredis. Core loads it for
 * `redis://`, `rediss://` and `redis+unix://` URLs; applications normally only pass the URL to
 * `connect()`. See README.md and docs/protocol/redis.md.
 * @packageDocumentation
 */
import type { TransportFactoryOptions } from '@unipc/core/spi'
import { type RedisTransportOptions, resolveConfig } from './config.js'
import { RedisTransport } from './transport.js'

export type { CompatMode, RedisConfig, RedisTransportOptions } from './config.js'
export { resolveConfig } from './config.js'
export {
  type DurableEvent,
  type DurableEvents,
  type DurableEventsOptions,
  durableEvents,
} from './durable-events.js'
export type { DurableEntry, DurableStart } from './native/durable.js'
export { RedisTransport } from './transport.js'

/**
 * Builds a Redis transport for a URL (the factory core's `connect()` calls).
 * @param url - `redis://[user:pass@]host:port/db`, `rediss://…`, `redis+unix:///path/redis.sock`;
 *   query `?prefix=`, `?compat=redis-ipc`, `?workerTtl=`, `?maxPayload=`, `?db=`
 * @param options - {@link RedisTransportOptions} (from `connect(url, { transport: … })`)
 * @example
 * ```ts
 * import { connect } from '@unipc/core'
 * const bus = await connect('redis+unix:///run/redis/redis.sock', { component: 'camera' })
 * ```
 */
export function createTransport(url: URL, options: TransportFactoryOptions = {}): RedisTransport {
  return new RedisTransport(resolveConfig(url, options as RedisTransportOptions))
}
