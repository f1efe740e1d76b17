/**
 * The conformance suite over Redis, twice: on a unix socket and on TCP. Cross-process cases run the
 * serving side in a separate peer process connected to the same Redis.
 */

import { runConformance } from '@unipc/conformance'
import { connect } from '@unipc/core'
import { startRedis, type TestRedis } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let redis: TestRedis | undefined
beforeAll(async () => {
  redis = await startRedis({ unixSocket: true })
})
afterAll(async () => {
  await redis?.stop()
})

const api = { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach }
const supports = { redelivery: true, persistence: true, durableEvents: false, crossProcess: true }
// Short worker TTL so redelivery cases do not wait long; separate prefixes keep the two runs apart.
const query = (prefix: string): string => `?workerTtl=1000&prefix=${prefix}`
const unixUrl = (): string => `${redis?.unixUrl}${query('cu:')}`
const tcpUrl = (): string => `${redis?.url}${query('ct:')}`

runConformance(api, {
  name: 'redis-unix',
  supports,
  connect: (options) => connect(unixUrl(), options),
  peer: { url: unixUrl },
})

runConformance(api, {
  name: 'redis-tcp',
  supports,
  connect: (options) => connect(tcpUrl(), options),
  peer: { url: tcpUrl },
})
