/**
 * Messages between the harness and the role processes it starts (over Node's IPC channel, JSON).
 * Times are `process.hrtime` nanoseconds as strings: CLOCK_MONOTONIC is system-wide on Linux, so
 * the publisher's and the subscribers' clocks can be compared.
 * @module
 */

import type { RoleName } from '../scenarios.js'
import type { ScenarioName } from '../types.js'

/** Timing of one run, the same for every role of it. */
export interface RunParams {
  readonly warmupMs: number
  readonly measureMs: number
  /** Events the fan-out publisher may be ahead of the slowest subscriber. */
  readonly window: number
}

/** One role process to start (argv[2] of role-main, as JSON). */
export interface RoleSpec {
  /** Module that exports the system (resolved by role-main). */
  readonly module: string
  readonly system: string
  /** The roles this process plays: one, or all of them for an in-process system. */
  readonly roles: readonly { role: RoleName; index: number; count: number }[]
  readonly scenario: ScenarioName
  readonly runId: string
  readonly config: unknown
  readonly params: RunParams
}

/** What the driver of a run reports. */
export interface DriverResult {
  /** Operations completed in the measured window. */
  readonly ops: number
  /** Length of the measured window in seconds. */
  readonly seconds: number
  /** Round-trip latencies in µs (rtt, large), sorted ascending, sampled to at most 20 000. */
  readonly latencies?: number[]
  /** Fan-out: first and last measured sequence numbers and the start of the measured window (ns). */
  readonly fanout?: { readonly firstSeq: number; readonly lastSeq: number; readonly startNs: string }
  /** The caller's baseline measured in the same processes, alternating with it (see `Caller.baseline`). */
  readonly baseline?: DriverResult
}

/** What a fan-out subscriber reports at the end. */
export interface SubscriberReport {
  /** Distinct measured events received. */
  readonly received: number
  /** When the last measured event arrived (ns). */
  readonly lastNs: string
}

/** Child -> harness. */
export type ChildMessage =
  | { type: 'loaded' }
  | { type: 'ready' }
  | { type: 'result'; result: DriverResult }
  | { type: 'report'; index: number; report: SubscriberReport }
  | { type: 'error'; message: string }

/** Harness -> child. */
export type ParentMessage =
  | { type: 'open' }
  | { type: 'go' }
  | { type: 'finish'; firstSeq: number; lastSeq: number }
  | { type: 'stop' }
