/**
 * Runs the conformance suite over Redis on one link kind, with its own redis-server. Cross-process
 * cases run the serving side in a separate peer process connected to the same Redis.
 */

import { runConformance } from '@unipc/conformance'
import { connect } from '@unipc/core'
import { startRedis, type TestRedis } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

/** Registers the suite for `redis-unix` or `redis-tcp`. */
export function redisConformance(link: 'unix' | 'tcp'): void {
  let redis: TestRedis | undefined
  beforeAll(async () => {
    redis = await startRedis({
      unixSocket: link === 'unix',
      port: link === 'tcp' ? 0 : false,
      persistence: true,
    })
  })
  afterAll(async () => {
    await redis?.stop()
  })
  // A short worker TTL so redelivery cases do not wait long.
  const url = (): string => `${link === 'unix' ? redis?.unixUrl : redis?.url}?workerTtl=1000`
  runConformance(
    { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
    {
      name: `redis-${link}`,
      supports: { redelivery: true, persistence: true, durableEvents: true, crossProcess: true },
      connect: (options) => connect(url(), options),
      peer: { url },
      // Restarts keep the append-only file, so settings and queued commands survive (persistence).
      restart: () => (redis as TestRedis).restart(),
    },
  )
}
