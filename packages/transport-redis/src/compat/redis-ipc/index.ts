/**
 * redis-ipc wire compatibility (placeholder until the mode lands).
 * @module
 */
import type { RedisContext } from '../../context.js'
import type { Facilities } from '../../transport.js'

/** Builds the redis-ipc facilities. */
export function createRedisIpcFacilities(_ctx: RedisContext): Facilities {
  throw new Error('not yet')
}
