/**
 * The pure parts of the bench: statistics, option parsing, target checks and the report text,
 * on hand-made results.
 */
import { describe, expect, it } from 'vitest'
import { parseArgs } from '../src/cli.js'
import { oddSliceSeconds } from '../src/harness/drivers.js'
import type { LoadedSystem } from '../src/harness/load.js'
import { type BenchResults, type CellResult, figuresOf } from '../src/harness/results.js'
import { runOrder } from '../src/harness/runner.js'
import { percentile, summarize } from '../src/harness/stats.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { readmeBlock } from '../src/report/readme.js'
import { checkTargets } from '../src/report/targets.js'
import { scenarioDefs } from '../src/scenarios.js'
import type { ScenarioName } from '../src/types.js'

const cell = (system: string, scenario: ScenarioName, median: number): CellResult => ({
  system,
  scenario,
  status: 'ok',
  runs: [{ value: median, extras: {} }],
  errors: [],
  value: { median, min: median, max: median },
  extras: {},
})

function results(cells: CellResult[]): BenchResults {
  const names = [...new Set(cells.map((c) => c.system))]
  return {
    meta: {
      date: '2026-01-01T00:00:00.000Z',
      mode: 'full',
      node: 'v20.0.0',
      machine: { cpus: 'test cpu', cores: 2, memoryGiB: 1, os: 'Linux', loadavg: [0.5, 0.5, 0.5] },
      versions: {},
      repetitions: 3,
      warmupMs: 300,
      measureMs: 1000,
      durationS: 1,
    },
    scenarios: [scenarioDefs.rtt, scenarioDefs.throughput],
    systems: names.map((name) => ({
      name,
      group: name.startsWith('unipc') ? 'unipc' : 'baseline',
      link: name.endsWith('tcp') ? 'tcp' : 'unix',
      description: name,
    })),
    cells,
  }
}

describe('statistics', () => {
  it('takes nearest-rank percentiles of sorted samples', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(s, 50)).toBe(50)
    expect(percentile(s, 99)).toBe(99)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })

  it('summarizes repetitions as median, min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 })
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 })
  })
})

describe('options', () => {
  it('parses filters and modes', () => {
    const o = parseArgs([
      '--quick',
      '--only',
      'net-msgpack, zeromq',
      '--scenario',
      'rtt,queue',
      '--reps',
      '5',
    ])
    expect(o).toMatchObject({
      quick: true,
      only: ['net-msgpack', 'zeromq'],
      scenarios: ['rtt', 'queue'],
      reps: 5,
    })
  })

  it('rejects unknown options and bad repetition counts', () => {
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option '--fast'/)
    expect(() => parseArgs(['--reps', '0'])).toThrow(/positive integer/)
    expect(() => parseArgs(['--only'])).toThrow(/--only needs a value/)
  })
})

describe('targets', () => {
  it('checks ratios against the baseline of the same socket kind, in the right direction', () => {
    const checks = checkTargets(
      results([
        cell('unipc socket unix', 'rtt', 50),
        cell('net-msgpack unix', 'rtt', 40),
        cell('unipc socket unix', 'throughput', 50_000),
        cell('net-msgpack unix', 'throughput', 100_000),
      ]),
    )
    const rtt = checks.find(
      (c) => c.system === 'unipc socket unix' && c.kind === 'ratio' && c.scenario === 'rtt',
    )!
    expect(rtt.status).toBe('met') // 1.25× ≤ 1.6×
    expect(rtt.measured).toMatch(/^1\.25×/)
    const tput = checks.find(
      (c) => c.system === 'unipc socket unix' && c.kind === 'ratio' && c.scenario === 'throughput',
    )!
    expect(tput.status).toBe('not met') // 0.5× < 0.6×
    const queue = checks.find(
      (c) => c.system === 'unipc socket unix' && c.scenario === 'queue' && c.kind === 'ratio',
    )!
    expect(queue.status).toBe('not measured')
  })

  it('says which peers are ahead when a transport does not beat them all', () => {
    const checks = checkTargets(
      results([
        cell('unipc socket unix', 'rtt', 50),
        cell('zeromq ipc', 'rtt', 40),
        cell('node-ipc unix', 'rtt', 90),
      ]),
    )
    const beats = checks.find(
      (c) => c.system === 'unipc socket unix' && c.kind === 'beats' && c.scenario === 'rtt',
    )!
    expect(beats.status).toBe('not met')
    expect(beats.short).toBe('rtt p50 behind zeromq ipc')
    expect(beats.measured).toMatch(/1 not measured/)
  })

  it('checks the typed-client overhead of issue 7 against the raw row of the same transport', () => {
    const checks = checkTargets(
      results([
        cell('unipc socket unix', 'rtt', 100),
        cell('unipc typed socket unix', 'rtt', 109),
        cell('unipc socket unix', 'throughput', 50_000),
        cell('unipc typed socket unix', 'throughput', 45_000),
        cell('unipc shm', 'rtt', 100),
        cell('unipc typed shm', 'rtt', 111),
      ]),
    ).filter((c) => c.issue === 7)
    const get = (system: string, scenario: ScenarioName) =>
      checks.find((c) => c.system === system && c.scenario === scenario)!
    expect(get('unipc typed socket unix', 'rtt')).toMatchObject({
      status: 'met',
      against: ['unipc socket unix'],
    })
    expect(get('unipc typed socket unix', 'rtt').short).toBe('rtt p50 1.09× (target ≤ 1.1×)')
    // 45k / 50k = 0.90 < 1/1.1: more than 10% longer per call.
    expect(get('unipc typed socket unix', 'throughput').status).toBe('not met')
    expect(get('unipc typed socket unix', 'throughput').short).toMatch(/0\.90× \(target ≥ 0\.91×\)/)
    expect(get('unipc typed shm', 'rtt').status).toBe('not met')
    expect(get('unipc typed shm', 'throughput').status).toBe('not measured')
  })

  it('checks issue 7 on the median of paired repetitions when every repetition of both rows ran', () => {
    const reps = (system: string, values: number[]): CellResult => ({
      ...cell(system, 'rtt', summarize(values).median),
      runs: values.map((value) => ({ value, extras: {} })),
      value: summarize(values),
    })
    // Load drifted between repetitions: the medians alone (104 / 62) would say 68% overhead, while
    // two of three typed repetitions are within 5% of the raw one measured beside them.
    const check = checkTargets(
      results([reps('unipc socket unix', [100, 60, 62]), reps('unipc typed socket unix', [104, 63, 110])]),
    ).find((c) => c.issue === 7 && c.scenario === 'rtt' && c.system === 'unipc typed socket unix')!
    expect(check.status).toBe('met')
    expect(check.measured).toMatch(/^1\.05× \(median of 3 paired repetitions \(1\.04, 1\.05, 1\.77\)/)
  })

  it('checks issue 7 on the raw calls alternated in the same processes when every run has them', () => {
    const values = [100, 60, 62]
    const baselines = [95, 58, 61]
    const typed: CellResult = {
      ...cell('unipc typed socket unix', 'rtt', summarize(values).median),
      runs: values.map((value, i) => ({ value, extras: { baseline: baselines[i]! } })),
      value: summarize(values),
      extras: { baseline: summarize(baselines) },
    }
    // The raw row (another process pair) was much faster; the alternated raw calls decide.
    const check = checkTargets(results([cell('unipc socket unix', 'rtt', 30), typed])).find(
      (c) => c.issue === 7 && c.scenario === 'rtt' && c.system === 'unipc typed socket unix',
    )!
    expect(check.status).toBe('met')
    expect(check.measured).toMatch(
      /^1\.03× \(median of 3 repetitions, each alternating with raw calls in the same processes \(1\.05, 1\.03, 1\.02\); medians 62 vs 61 \(raw, same processes\)/,
    )
  })

  it("splits an alternating driver's measured window between the two sides", () => {
    // Times in ms. Warm-up 50 ms, measured 200 ms, 100 ms slices: the baseline has [100, 200) of [50, 250).
    expect(oddSliceSeconds(0, 50, 250, 100)).toBeCloseTo(0.1, 9)
    // warm-up 1500 ms, measured 1000 ms: half of it.
    expect(oddSliceSeconds(0, 1500, 2500, 100)).toBeCloseTo(0.5, 9)
    expect(oddSliceSeconds(7, 7, 7 + 99, 100)).toBe(0)
    // A window that starts inside an odd slice counts only the part after it starts.
    expect(oddSliceSeconds(1000.5, 1150.5, 1250.5, 100)).toBeCloseTo(0.05, 9)
  })

  it('adds the alternated baseline of a run as the extra `baseline`', () => {
    const figures = figuresOf('throughput', {
      driver: { ops: 500, seconds: 0.5, baseline: { ops: 600, seconds: 0.5 } },
      subscribers: [],
    })
    expect(figures).toEqual({ value: 1000, extras: { ops: 500, baseline: 1200 } })
  })

  it('runs a paired system right after its partner in every repetition', () => {
    const sys = (name: string, pairedWith?: string): LoadedSystem =>
      ({ module: 'm.ts', system: { name, ...(pairedWith ? { pairedWith } : {}) } }) as unknown as LoadedSystem
    const order = runOrder([
      sys('unipc socket unix'),
      sys('unipc shm'),
      sys('unipc typed socket unix', 'unipc socket unix'),
      sys('unipc typed shm', 'unipc shm'),
      sys('net-msgpack unix'),
      sys('orphan', 'not in this run'),
    ]).map((ls) => ls.system.name)
    expect(order).toEqual([
      'unipc socket unix',
      'unipc typed socket unix',
      'unipc shm',
      'unipc typed shm',
      'net-msgpack unix',
      'orphan',
    ])
  })

  it('checks absolute shm targets', () => {
    const checks = checkTargets(results([cell('unipc shm', 'throughput', 600_000)]))
    expect(checks.find((c) => c.system === 'unipc shm' && c.scenario === 'throughput')!.status).toBe('met')
  })
})

describe('reports', () => {
  it('renders the table, the ratios and the targets, and n/a with its reason', () => {
    const na: CellResult = {
      system: 'net-msgpack unix',
      scenario: 'throughput',
      status: 'na',
      reason: 'no reason at all',
      runs: [],
      errors: [],
    }
    const r = results([
      cell('unipc socket unix', 'rtt', 50),
      cell('net-msgpack unix', 'rtt', 40),
      cell('unipc socket unix', 'throughput', 9),
      na,
    ])
    const md = renderMarkdown(r)
    expect(md).toContain('| unipc socket unix | net-msgpack unix | 1.25× | – |')
    expect(md).toContain('n/a [1]')
    expect(md).toContain('1. net-msgpack unix / throughput: no reason at all')
    expect(md).toMatch(/unipc socket unix \| round trip p50 ≤ 1\.6× node:net \| 1\.25× .* \| ✅ met/)
    expect(readmeBlock(r)).toContain('- unipc socket unix (#4): 1 of 10 met (9 not measured)\n')
  })
})
