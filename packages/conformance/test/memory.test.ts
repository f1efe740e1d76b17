// The README's example, run on memory: (with a relative import of the suite instead of the package).
import { connect, createMemoryTransport } from '@unipc/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runConformance } from '../src/index.js'

// Every bus of one run must reach the same world (hub, broker, segment): here one memory world.
const world = `memory://conformance-${process.pid}`

runConformance(
  { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
  {
    name: 'memory',
    // A new, open bus per call. A transport object works as well as a URL.
    connect: (options) => connect(createMemoryTransport(new URL(world)), options),
  },
)
