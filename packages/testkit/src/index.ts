/**
 * Helpers for unipc's own tests: start TypeScript child processes, make temp dirs, find free ports.
 * Tests in every package use these instead of writing their own.
 * @packageDocumentation
 */

export { freePort, tempDir, waitFor } from './misc.js'
export {
  type StartRedisOptions,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
  type TestRedis,
  type TestRedisCluster,
  type TestRedisSentinel,
} from './redis.js'
export { type ChildHandle, type SpawnTsOptions, spawnTs } from './spawn.js'
export { crossProcessTransports, type RunningTransport, type TransportCase } from './transports.js'
