/**
 * The command line: parses options, picks systems and scenarios, runs the plan, prints and writes
 * the reports.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, freemem, loadavg, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { codeMode } from './harness/code-mode.js'
import { loadSystems } from './harness/load.js'
import type { RunParams } from './harness/messages.js'
import type { BenchResults } from './harness/results.js'
import { runPlan } from './harness/runner.js'
import { renderMarkdown } from './report/markdown.js'
import { updateReadme } from './report/readme.js'
import { renderSvg } from './report/svg.js'
import { progressPrinter, renderTable } from './report/terminal.js'
import { scenarioDefs } from './scenarios.js'
import { SCENARIOS, type ScenarioName } from './types.js'

/** Parsed command-line options. */
export interface CliOptions {
  quick: boolean
  only: string[]
  scenarios: ScenarioName[]
  reps: number | undefined
  out: string | undefined
  write: boolean
  /** Re-render the reports from this JSON file instead of running. */
  report: string | undefined
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** Parses argv; throws with a usage message on bad input. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    quick: false,
    only: [],
    scenarios: [...SCENARIOS],
    reps: undefined,
    out: undefined,
    write: true,
    report: undefined,
  }
  const list = (v: string | undefined, flag: string): string[] => {
    if (!v) throw new Error(`${flag} needs a value`)
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') o.quick = true
    else if (a === '--only') o.only = list(argv[++i], a)
    else if (a === '--scenario') {
      const names = list(argv[++i], a)
      for (const n of names) {
        if (!(SCENARIOS as readonly string[]).includes(n)) {
          throw new Error(`unknown scenario '${n}'; known: ${SCENARIOS.join(', ')}`)
        }
      }
      o.scenarios = names as ScenarioName[]
    } else if (a === '--reps') o.reps = Number(argv[++i])
    else if (a === '--out') o.out = argv[++i]
    else if (a === '--no-write') o.write = false
    else if (a === '--report') o.report = argv[++i]
    else
      throw new Error(
        `unknown option '${a}'; options: --quick --only <systems> --scenario <names> --reps <n> --out <dir> --no-write --report <json>`,
      )
  }
  if (o.reps !== undefined && (!Number.isInteger(o.reps) || o.reps < 1))
    throw new Error('--reps needs a positive integer')
  return o
}

/** Version of an installed package (read from its package.json), or `missing`. */
function versionOf(pkg: string): string {
  const file = join(repoRoot, 'node_modules', pkg, 'package.json')
  if (!existsSync(file)) return 'missing'
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?'
  } catch {
    return '?'
  }
}

/** Runs the benchmark; returns the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let opts: CliOptions
  try {
    opts = parseArgs(argv)
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`)
    return 2
  }
  if (opts.report) {
    // Re-render from a JSON file of an earlier run (after a change of the report's layout).
    const results = JSON.parse(readFileSync(opts.report, 'utf8')) as BenchResults
    process.stdout.write(`${renderTable(results)}\n`)
    if (opts.write) writeReports(results, opts.out, results.meta.mode === 'full' && !opts.out)
    return 0
  }
  const { systems: all, broken } = await loadSystems()
  for (const b of broken) process.stderr.write(`bench: adapter ${b.module} did not load: ${b.error}\n`)
  const systems = opts.only.length
    ? all.filter((s) => opts.only.some((o) => s.system.name.toLowerCase().includes(o.toLowerCase())))
    : all
  if (systems.length === 0) {
    process.stderr.write(
      `bench: no system matches --only ${opts.only.join(',')}; systems: ${all.map((s) => s.system.name).join(', ')}\n`,
    )
    return 2
  }
  const params: RunParams = opts.quick
    ? { warmupMs: 50, measureMs: 200, window: 4096 }
    : // A warm-up long enough for V8 to optimize the hot paths of every system (with 300 ms, JIT
      // warm-up was still in the numbers: unipc's Redis round trip read 2.5x where it reads 1.7x warm).
      { warmupMs: 1500, measureMs: 1000, window: 4096 }
  const repetitions = opts.reps ?? (opts.quick ? 1 : 3)
  const started = Date.now()
  const code = codeMode()
  if (code.reason) process.stderr.write(`bench: measuring unipc's sources through tsx: ${code.reason}\n`)
  const cells = await runPlan({
    codeMode: code.mode,
    systems,
    scenarios: opts.scenarios,
    repetitions,
    params,
    onProgress: progressPrinter(),
  })
  if (process.stderr.isTTY) process.stderr.write('\n')
  const versions: Record<string, string> = {}
  for (const s of systems) for (const p of s.system.packages ?? []) versions[p] = versionOf(p)
  const redisVersion = /v=([\d.]+)/.exec(
    (await import('node:child_process')).spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
      .stdout ?? '',
  )?.[1]
  if (redisVersion) versions['redis-server'] = redisVersion
  const cpuList = cpus()
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      code,
      node: process.version,
      machine: {
        cpus: cpuList[0]?.model ?? 'unknown',
        cores: cpuList.length,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        os: `${type()} ${release()}`,
        loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      },
      versions,
      repetitions,
      warmupMs: params.warmupMs,
      measureMs: params.measureMs,
      durationS: Math.round((Date.now() - started) / 1000),
    },
    scenarios: opts.scenarios.map((s) => scenarioDefs[s]),
    systems: systems.map(({ system: s }) => ({
      name: s.name,
      group: s.group,
      link: s.link,
      description: s.description,
    })),
    cells,
  }
  void freemem
  process.stdout.write(`${renderTable(results)}\n`)
  if (opts.write) {
    // Only a full run of everything into the repo's docs/ updates the README's quoted table.
    const complete =
      !opts.quick && !opts.out && opts.only.length === 0 && opts.scenarios.length === SCENARIOS.length
    writeReports(results, opts.out, complete)
  }
  return 0
}

/** Writes benchmarks.json and benchmarks.md (and the README block when `readme`). */
function writeReports(results: BenchResults, outDir: string | undefined, readme: boolean): void {
  const out = outDir ?? join(repoRoot, 'docs')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(join(out, 'benchmarks.md'), renderMarkdown(results))
  writeFileSync(join(out, 'benchmarks.svg'), renderSvg(results))
  process.stderr.write(`bench: wrote ${join(out, 'benchmarks.md')}, benchmarks.json and benchmarks.svg\n`)
  if (readme && updateReadme(join(repoRoot, 'README.md'), results)) {
    process.stderr.write('bench: updated the benchmark table in README.md\n')
  }
}
