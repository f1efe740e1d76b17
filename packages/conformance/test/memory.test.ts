import { randomBytes } from 'node:crypto'
import { connect } from '@unipc/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runConformance } from '../src/index.js'

// One world per run, so concurrent runs of other test files never share queues with this one.
const url = `memory://conformance-${randomBytes(4).toString('hex')}`

runConformance(
  { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
  { name: 'memory', connect: (options) => connect(url, options) },
)
