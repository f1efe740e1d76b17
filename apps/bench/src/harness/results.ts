/**
 * The shape of benchmark results (also the JSON file's), and how one run's raw outcome becomes the
 * figures of its cell.
 * @module
 */
import { type ScenarioDef, scenarioDefs } from '../scenarios.js'
import type { Group, Link, ScenarioName } from '../types.js'
import type { RunOutcome } from './run-once.js'
import { percentile, type Summary, summarize } from './stats.js'

/** The figures of one run: the headline value and secondary ones (p99, lost…). */
export interface RunFigures {
  readonly value: number
  readonly extras: Readonly<Record<string, number>>
}

/** One system × scenario cell. */
export interface CellResult {
  readonly system: string
  readonly scenario: ScenarioName
  /** `ok`: measured; `na`: not applicable or not available (see reason); `error`: every run failed. */
  status: 'ok' | 'na' | 'error'
  reason?: string
  readonly runs: RunFigures[]
  /** Errors of failed runs (a cell can be ok with some runs failed). */
  readonly errors: string[]
  value?: Summary
  extras?: Record<string, Summary>
}

/** A system as the report lists it. */
export interface SystemInfo {
  readonly name: string
  readonly group: Group
  readonly link: Link
  readonly description: string
}

/** Everything a benchmark run produced. */
export interface BenchResults {
  readonly meta: {
    readonly date: string
    readonly mode: 'full' | 'quick'
    /** unipc code measured: the built packages (`dist`) or their sources through tsx. Absent in older runs. */
    readonly code?: { mode: 'dist' | 'source'; reason?: string }
    readonly node: string
    readonly machine: { cpus: string; cores: number; memoryGiB: number; os: string; loadavg: number[] }
    readonly versions: Record<string, string>
    readonly repetitions: number
    readonly warmupMs: number
    readonly measureMs: number
    readonly durationS: number
  }
  readonly scenarios: readonly ScenarioDef[]
  readonly systems: readonly SystemInfo[]
  readonly cells: readonly CellResult[]
}

/**
 * Turns a run's raw outcome into its figures. A driver that alternated with a baseline in the same
 * processes adds that baseline's headline figure as the extra `baseline`.
 */
export function figuresOf(scenario: ScenarioName, outcome: RunOutcome): RunFigures {
  const own = ownFigures(scenario, outcome)
  const base = outcome.driver.baseline
  if (!base) return own
  const theirs = ownFigures(scenario, { driver: base, subscribers: [] })
  return { value: own.value, extras: { ...own.extras, baseline: theirs.value } }
}

function ownFigures(scenario: ScenarioName, outcome: RunOutcome): RunFigures {
  const def = scenarioDefs[scenario]
  const d = outcome.driver
  const rate = d.seconds > 0 ? d.ops / d.seconds : 0
  switch (scenario) {
    case 'rtt': {
      const lat = d.latencies ?? []
      return { value: percentile(lat, 50), extras: { p99: percentile(lat, 99), calls: d.ops } }
    }
    case 'large': {
      const lat = d.latencies ?? []
      return {
        value: (rate * 2 * def.payloadSize) / 1e6,
        extras: { p50: percentile(lat, 50), calls: d.ops },
      }
    }
    case 'fanout': {
      const f = d.fanout!
      const published = f.lastSeq - f.firstSeq + 1
      const start = BigInt(f.startNs)
      const rates = outcome.subscribers.map((s) => {
        const secs = Number(BigInt(s.lastNs) - start) / 1e9
        return secs > 0 ? s.received / secs : 0
      })
      const lost = outcome.subscribers.reduce((n, s) => n + (published - s.received), 0)
      return {
        value: rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length),
        extras: { lost, slowest: Math.min(...rates), published },
      }
    }
    default:
      return { value: rate, extras: { ops: d.ops } }
  }
}

/** Fills a cell's summaries from its runs. */
export function summarizeCell(cell: CellResult): void {
  if (cell.runs.length === 0) return
  cell.value = summarize(cell.runs.map((r) => r.value))
  const keys = new Set(cell.runs.flatMap((r) => Object.keys(r.extras)))
  cell.extras = {}
  for (const k of keys) cell.extras[k] = summarize(cell.runs.map((r) => r.extras[k] ?? Number.NaN))
}
