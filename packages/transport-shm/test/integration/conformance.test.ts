import { runConformance } from '@unipc/conformance'
import { connect } from '@unipc/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.js'

// The broker runs in its own process; cross-process cases put client and server in two more.
// Twice: with the default busy-poll budget, and with it off (`spin=0`: every process arms its
// rings as soon as they are empty and sleeps on its doorbell).
for (const [label, query] of [
  ['shm', ''],
  ['shm (spin=0)', '&spin=0'],
] as const) {
  describe(label, () => {
    let broker: BrokerProcess | undefined
    beforeAll(async () => {
      broker = await startBrokerProcess(query)
    })
    afterAll(async () => {
      await broker?.stop()
    })

    runConformance(
      { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
      {
        name: label,
        connect: (options) => connect((broker as BrokerProcess).url, options),
        supports: { redelivery: true, persistence: false, durableEvents: false, crossProcess: true },
        peer: { url: () => (broker as BrokerProcess).url },
      },
    )
  })
}
