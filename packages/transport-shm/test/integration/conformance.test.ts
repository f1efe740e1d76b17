import { runConformance } from '@unipc/conformance'
import { connect } from '@unipc/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.js'

// The broker runs in its own process; cross-process cases put client and server in two more.
let broker: BrokerProcess | undefined
beforeAll(async () => {
  broker = await startBrokerProcess()
})
afterAll(async () => {
  await broker?.stop()
})

runConformance(
  { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
  {
    name: 'shm',
    connect: (options) => connect((broker as BrokerProcess).url, options),
    supports: { redelivery: true, persistence: false, durableEvents: false, crossProcess: true },
    peer: { url: () => (broker as BrokerProcess).url },
  },
)
