/**
 * @unipc/conformance — the behaviour tests every unipc transport passes. A transport package calls
 * {@link runConformance} from its own vitest file with a function that opens buses on it.
 * @packageDocumentation
 */
import type { Supports } from '@unipc/core'
import { commandCases } from './cases/commands.js'
import { crossProcessCases } from './cases/cross-process.js'
import { eventCases } from './cases/events.js'
import { lifecycleCases } from './cases/lifecycle.js'
import { payloadCases } from './cases/payloads.js'
import { requestCases } from './cases/requests.js'
import { restartCases } from './cases/restart.js'
import { settingsCases } from './cases/settings.js'
import { statusCases } from './cases/status.js'
import { streamCases } from './cases/streams.js'
import { Registrar } from './registrar.js'
import type { ConformanceKnobs, ConformanceOptions, TestApi } from './types.js'

export { CaseContext, deferred, Recorder, sleep, within } from './context.js'
export {
  PEER_READY,
  type PeerHandle,
  type PeerNames,
  peerNames,
  peerScript,
  type StartPeerOptions,
  startPeer,
} from './peer-client.js'
export { SKIP_MARKER } from './registrar.js'
export { defaultSpawn } from './spawn.js'
export type { ConformanceKnobs, ConformanceOptions, PeerOptions, PeerSpawn, TestApi } from './types.js'

/** The defaults of the size and timing knobs. */
export const defaultKnobs: ConformanceKnobs = {
  timeout: 20_000,
  waitTimeout: 5_000,
  largePayload: 8 * 1024 * 1024,
  concurrentCalls: 200,
  livenessInterval: 100,
}

/** The title of the suite's top-level group for a transport; the report script keys on it. */
export function suiteTitle(name: string): string {
  return `conformance: ${name}`
}

/**
 * Registers the conformance cases in the caller's test run.
 * @param api - the caller's test functions (`describe`, `it`, `expect`, hooks) from vitest
 * @param options - the transport's name, how to open a bus on it, feature overrides, peer settings
 * @example
 * ```ts
 * import { connect } from '@unipc/core'
 * import { runConformance } from '@unipc/conformance'
 * import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
 *
 * runConformance({ describe, it, expect, beforeAll, afterAll, beforeEach, afterEach }, {
 *   name: 'memory',
 *   connect: (options) => connect('memory://conformance', options),
 * })
 * ```
 */
export function runConformance(api: TestApi, options: ConformanceOptions): void {
  const knobs: ConformanceKnobs = {
    timeout: options.timeout ?? defaultKnobs.timeout,
    waitTimeout: options.waitTimeout ?? defaultKnobs.waitTimeout,
    largePayload: options.largePayload ?? defaultKnobs.largePayload,
    concurrentCalls: options.concurrentCalls ?? defaultKnobs.concurrentCalls,
    livenessInterval: options.livenessInterval ?? defaultKnobs.livenessInterval,
  }
  api.describe(suiteTitle(options.name), async () => {
    const supports = await resolveSupports(options)
    const r = new Registrar(api, options, knobs, supports)
    commandCases(r)
    requestCases(r)
    streamCases(r)
    settingsCases(r)
    statusCases(r)
    eventCases(r)
    payloadCases(r)
    lifecycleCases(r)
    crossProcessCases(r)
    restartCases(r)
  })
}

const FLAGS = ['redelivery', 'persistence', 'durableEvents', 'crossProcess'] as const

/**
 * The transport's manifest with the caller's overrides. Opens one probe bus unless every flag was
 * given, because cases must be registered (or visibly skipped) before any of them runs.
 */
async function resolveSupports(options: ConformanceOptions): Promise<Supports> {
  const given = options.supports ?? {}
  if (FLAGS.every((f) => typeof given[f] === 'boolean')) return given as Supports
  const probe = await options.connect({})
  try {
    return { ...probe.transport.supports, ...given }
  } finally {
    await probe.close()
  }
}
