/**
 * The speed targets of the transport issues (socket #4, Redis #5, shm #6) and of typed services
 * (rpc-streams #7), checked against one run: ratios to the baseline of the same link measured in the
 * same run, absolute figures, and "beats the peer libraries" comparisons.
 * @module
 */
import type { BenchResults, CellResult } from '../harness/results.js'
import { scenarioDefs } from '../scenarios.js'
import type { ScenarioName } from '../types.js'
import { num } from './format.js'

/** One target as the issue states it. */
export interface Target {
  readonly issue: number
  /** The unipc system it applies to. */
  readonly system: string
  readonly text: string
  readonly scenario: ScenarioName
  /** `ratio`: system / `against[0]` compared with `threshold`; `absolute`: the figure itself; `beats`: better than every system in `against`. */
  readonly kind: 'ratio' | 'absolute' | 'beats'
  readonly against?: readonly string[]
  readonly threshold?: number
  /**
   * For `ratio`: the median of the per-repetition ratios (repetition i of the system over
   * repetition i of `against[0]`, measured one right after the other) instead of the ratio of the
   * two medians. For an overhead of one layer over the same transport, pairing takes out the load
   * that drifts between repetitions on a shared machine.
   */
  readonly paired?: boolean
}

/** Whether a target is met in this run. */
export interface TargetCheck extends Target {
  readonly status: 'met' | 'not met' | 'not measured'
  /** The measured figure or ratio, as text. */
  readonly measured: string
  /** A short form for summaries: scenario, what was measured and the target. */
  readonly short: string
}

const socketRatios: [ScenarioName, number, string][] = [
  ['rtt', 1.6, 'round trip p50 ≤ 1.6× node:net'],
  ['throughput', 0.6, 'requests/s with 64 in flight ≥ 0.6× node:net'],
  ['large', 0.8, '1 MiB request/reply MB/s ≥ 0.8× node:net'],
  ['fanout', 0.7, 'fan-out to 4 subscribers ≥ 0.7× node:net'],
  ['queue', 0.6, 'queue with 4 workers ≥ 0.6× node:net'],
]
const socketPeers: Record<string, string[]> = {
  unix: ['node-ipc unix', 'zeromq ipc', 'moleculer tcp'],
  tcp: ['node-ipc tcp', 'zeromq tcp', 'moleculer tcp'],
}
const redisRatios: [ScenarioName, number, string][] = [
  ['rtt', 1.2, 'round trip p50 ≤ 1.2× plain ioredis lists'],
  ['throughput', 1.0, 'requests/s with 64 in flight ≥ 1.0× plain ioredis'],
  ['fanout', 0.9, 'fan-out ≥ 0.9× plain PUBLISH/SUBSCRIBE'],
  ['queue', 2.0, 'queue with 4 workers ≥ 2× plain LPUSH/BRPOP workers'],
]

/** Every target of issues 4, 5, 6 and 7. */
export function allTargets(): Target[] {
  const t: Target[] = []
  for (const link of ['unix', 'tcp']) {
    const system = `unipc socket ${link}`
    for (const [scenario, threshold, text] of socketRatios) {
      t.push({ issue: 4, system, text, scenario, kind: 'ratio', against: [`net-msgpack ${link}`], threshold })
    }
    const peers = socketPeers[link]!
    for (const scenario of ['rtt', 'throughput', 'fanout', 'large', 'queue'] as ScenarioName[]) {
      const text = `beats ${peers.join(', ')} on ${scenarioDefs[scenario].title}`
      t.push({ issue: 4, system, text, scenario, kind: 'beats', against: peers })
    }
    const redis = `unipc redis ${link}`
    for (const [scenario, threshold, text] of redisRatios) {
      t.push({
        issue: 5,
        system: redis,
        text,
        scenario,
        kind: 'ratio',
        against: [`ioredis ${link}`],
        threshold,
      })
    }
    for (const scenario of ['throughput', 'fanout', 'queue'] as ScenarioName[]) {
      t.push({
        issue: 5,
        system: redis,
        text: `ahead of moleculer redis and nest-redis on ${scenarioDefs[scenario].title}`,
        scenario,
        kind: 'beats',
        against: ['moleculer redis', 'nest-redis'],
      })
    }
  }
  t.push(
    {
      issue: 6,
      system: 'unipc shm',
      text: 'round trip p50 ≤ 0.6× node:net unix',
      scenario: 'rtt',
      kind: 'ratio',
      against: ['net-msgpack unix'],
      threshold: 0.6,
    },
    {
      issue: 6,
      system: 'unipc shm',
      text: 'one-way 64 B events ≥ 2,000,000/s to a JS handler',
      scenario: 'stream',
      kind: 'absolute',
      threshold: 2_000_000,
    },
    {
      issue: 6,
      system: 'unipc shm',
      text: 'requests/s with 64 in flight ≥ 500,000',
      scenario: 'throughput',
      kind: 'absolute',
      threshold: 500_000,
    },
    {
      issue: 6,
      system: 'unipc shm',
      text: '1 MiB request/response ≥ 3 GB/s',
      scenario: 'large',
      kind: 'absolute',
      threshold: 3_000,
    },
  )
  // Issue 7: the typed client and `serve()` (rpc-streams) add at most 10% to raw `bus.requests.call`
  // with the same 64 B payload on the same transport, both rows measured in this run: a round trip
  // at most 1.1× as long, and with 64 in flight at least 1/1.1 of the raw rate (≤ 10% more time per call).
  for (const [typed, raw] of [
    ['unipc typed socket unix', 'unipc socket unix'],
    ['unipc typed shm', 'unipc shm'],
  ] as const) {
    t.push(
      {
        issue: 7,
        system: typed,
        text: `typed overhead vs raw: round trip p50 ≤ 1.10× ${raw}`,
        scenario: 'rtt',
        kind: 'ratio',
        against: [raw],
        threshold: 1.1,
        paired: true,
      },
      {
        issue: 7,
        system: typed,
        text: `typed overhead vs raw: requests/s with 64 in flight ≥ 0.91× ${raw} (1/1.1)`,
        scenario: 'throughput',
        kind: 'ratio',
        against: [raw],
        threshold: 1 / 1.1,
        paired: true,
      },
    )
  }
  // Stable sort: issue by issue, each in the order above.
  return t.sort((a, b) => a.issue - b.issue)
}

/**
 * Per-repetition ratios for a layer over its base: from the same processes when every run of `a`
 * alternated with its baseline (extra `baseline`), else repetition i of `a` over repetition i of
 * `b` when both have every repetition; else none.
 */
function pairedRatios(
  a: CellResult | undefined,
  b: CellResult | undefined,
): { ratios: number[]; sameProcess: boolean } {
  if (a && a.runs.length > 0 && a.runs.every((r) => (r.extras.baseline ?? 0) > 0)) {
    return { ratios: a.runs.map((r) => r.value / r.extras.baseline!), sameProcess: true }
  }
  if (!a || !b || a.errors.length > 0 || b.errors.length > 0 || a.runs.length !== b.runs.length) {
    return { ratios: [], sameProcess: false }
  }
  return { ratios: a.runs.map((run, i) => run.value / b.runs[i]!.value), sameProcess: false }
}

function medianOf(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const median = (c: CellResult | undefined): number | undefined =>
  c?.status === 'ok' && c.value ? c.value.median : undefined

/** Checks every target against `results`. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const cell = (system: string, scenario: ScenarioName) =>
    results.cells.find((c) => c.system === system && c.scenario === scenario)
  return allTargets().map((t): TargetCheck => {
    const lower = scenarioDefs[t.scenario].lowerIsBetter
    const unit = scenarioDefs[t.scenario].unit
    const mine = median(cell(t.system, t.scenario))
    const title = scenarioDefs[t.scenario].title
    if (mine === undefined) {
      return {
        ...t,
        status: 'not measured',
        measured: `${t.system} not measured in this run`,
        short: `${title} not measured`,
      }
    }
    if (t.kind === 'absolute') {
      const ok = lower ? mine <= t.threshold! : mine >= t.threshold!
      return {
        ...t,
        status: ok ? 'met' : 'not met',
        measured: `${num(mine)} ${unit}`,
        short: `${title} ${num(mine)} (target ${lower ? '≤' : '≥'} ${num(t.threshold!)})`,
      }
    }
    const others = (t.against ?? []).map((name) => ({ name, value: median(cell(name, t.scenario)) }))
    const measured = others.filter((o): o is { name: string; value: number } => o.value !== undefined)
    if (measured.length === 0) {
      return {
        ...t,
        status: 'not measured',
        measured: `${t.against?.join(', ')} not measured in this run`,
        short: `${title}: ${t.against?.join(', ')} not measured`,
      }
    }
    if (t.kind === 'ratio') {
      const { ratios: pairs, sameProcess } = t.paired
        ? pairedRatios(cell(t.system, t.scenario), cell(measured[0]!.name, t.scenario))
        : { ratios: [], sameProcess: false }
      const ratio = pairs.length > 0 ? medianOf(pairs) : mine / measured[0]!.value
      const ok = lower ? ratio <= t.threshold! : ratio >= t.threshold!
      const kind = sameProcess
        ? 'repetitions, each alternating with raw calls in the same processes'
        : 'paired repetitions'
      const how =
        pairs.length > 0
          ? `median of ${pairs.length} ${kind} (${pairs.map((r) => r.toFixed(2)).join(', ')}); medians `
          : ''
      // Alternating runs compare with the raw calls measured beside them, not with the raw row.
      const theirs = sameProcess ? cell(t.system, t.scenario)!.extras!.baseline!.median : measured[0]!.value
      const theirName = sameProcess ? ' (raw, same processes)' : ''
      return {
        ...t,
        status: ok ? 'met' : 'not met',
        measured: `${ratio.toFixed(2)}× (${how}${num(mine)} vs ${num(theirs)}${theirName} ${unit})`,
        short: `${title} ${ratio.toFixed(2)}× (target ${lower ? '≤' : '≥'} ${Number(t.threshold!.toFixed(2))}×)`,
      }
    }
    const beaten = measured.filter((o) => (lower ? mine < o.value : mine > o.value))
    const missing = others.length - measured.length
    const detail = `${num(mine)} vs ${measured.map((o) => `${o.name} ${num(o.value)}`).join(', ')}${missing ? ` (${missing} not measured)` : ''}`
    const ahead = measured.filter((o) => !beaten.includes(o)).map((o) => o.name)
    return {
      ...t,
      status: ahead.length === 0 ? 'met' : 'not met',
      measured: detail,
      short: ahead.length
        ? `${title} behind ${ahead.join(', ')}`
        : `${title} ahead of ${t.against?.join(', ')}`,
    }
  })
}
