/**
 * Runs the benchmark plan: for each scenario, repetition after repetition, every system once per
 * repetition (interleaved, so noise from other load on the machine spreads over all systems instead
 * of hitting one). Each system's `setup` runs once, lazily; a failing setup or run marks cells n/a
 * or error with the reason and the run goes on.
 * @module
 */

import { rmSync } from 'node:fs'
import { scenarioDefs } from '../scenarios.js'
import type { ScenarioName, System } from '../types.js'
import type { CodeMode } from './code-mode.js'
import { compiledDir, compileRoles } from './compile.js'
import { createEnv } from './env.js'
import type { LoadedSystem } from './load.js'
import type { RunParams } from './messages.js'
import { type CellResult, figuresOf, summarizeCell } from './results.js'
import { killAllRoles, runOnce } from './run-once.js'

/** What to run. */
export interface Plan {
  readonly systems: readonly LoadedSystem[]
  readonly scenarios: readonly ScenarioName[]
  readonly repetitions: number
  readonly params: RunParams
  /** Whether unipc roles run the built packages or their sources. */
  readonly codeMode: CodeMode
  /** Called before and after each run, for the progress line. */
  readonly onProgress?: (p: Progress) => void
}

/** Where the run is. */
export interface Progress {
  readonly done: number
  readonly total: number
  readonly scenario: ScenarioName
  readonly system: string
  readonly repetition: number
  readonly repetitions: number
  /** The figure of the run just finished, or its error. */
  readonly last?: { value?: number; error?: string }
  /** Seconds since the start, and the estimate of what remains. */
  readonly elapsedS: number
  readonly etaS: number
}

/** Why a system cannot run a scenario, or undefined when it can. */
export function unsupportedReason(system: System, scenario: ScenarioName): string | undefined {
  const s = system.scenarios[scenario]
  if (s === undefined) return 'not implemented'
  if (s !== true) return s
  const def = scenarioDefs[scenario]
  for (const role of [def.first.role, def.second.role]) {
    if (typeof system[role] !== 'function') return `adapter has no ${role} role`
  }
  return undefined
}

/**
 * The order systems run in within a repetition: the plan's, except that a system paired with
 * another (`pairedWith`) runs right after it.
 */
export function runOrder(systems: readonly LoadedSystem[]): LoadedSystem[] {
  const names = new Set(systems.map((ls) => ls.system.name))
  const followers = (name: string) => systems.filter((ls) => ls.system.pairedWith === name)
  const out: LoadedSystem[] = []
  const place = (ls: LoadedSystem): void => {
    out.push(ls)
    for (const f of followers(ls.system.name)) place(f)
  }
  for (const ls of systems) {
    const leader = ls.system.pairedWith
    if (leader === undefined || !names.has(leader)) place(ls)
  }
  return out
}

/** Runs the plan and returns one cell per system × scenario. */
export async function runPlan(plan: Plan): Promise<CellResult[]> {
  const env = createEnv()
  // Precompiled role code starts faster; without it (esbuild failed) the sources run with tsx.
  const compiled = await compileRoles([...new Set(plan.systems.map((s) => s.module))], plan.codeMode)
  env.onTeardown(() => rmSync(compiledDir(), { recursive: true, force: true }))
  const cells = new Map<string, CellResult>()
  const key = (system: string, scenario: ScenarioName): string => `${system}\u0000${scenario}`
  const configs = new Map<string, Promise<{ ok: true; config: unknown } | { ok: false; reason: string }>>()
  const setupOf = (ls: LoadedSystem) => {
    let p = configs.get(ls.system.name)
    if (!p) {
      p = (async () => {
        try {
          return { ok: true as const, config: ls.system.setup ? await ls.system.setup(env) : undefined }
        } catch (err) {
          return {
            ok: false as const,
            reason: `setup failed: ${err instanceof Error ? err.message : String(err)}`,
          }
        }
      })()
      configs.set(ls.system.name, p)
    }
    return p
  }
  for (const scenario of plan.scenarios) {
    for (const ls of plan.systems) {
      const reason = unsupportedReason(ls.system, scenario)
      cells.set(key(ls.system.name, scenario), {
        system: ls.system.name,
        scenario,
        status: reason ? 'na' : 'ok',
        ...(reason ? { reason } : {}),
        runs: [],
        errors: [],
      })
    }
  }
  const total = [...cells.values()].filter((c) => c.status === 'ok').length * plan.repetitions
  let done = 0
  const started = Date.now()
  const timeoutMs = 60_000 + 4 * (plan.params.warmupMs + plan.params.measureMs)
  // Interrupted: leave no role process, hub or redis-server behind.
  const onSignal = (signal: NodeJS.Signals): void => {
    killAllRoles()
    void env.teardownAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const order = runOrder(plan.systems)
    for (const scenario of plan.scenarios) {
      for (let rep = 1; rep <= plan.repetitions; rep++) {
        for (const ls of order) {
          const cell = cells.get(key(ls.system.name, scenario))!
          // Skip cells that cannot run, and stop repeating a cell that has only timed out so far
          // (a timeout costs a minute; a crash may be transient, e.g. a package being rebuilt).
          if (cell.status === 'na') continue
          if (cell.runs.length === 0 && cell.errors.some((e) => e.includes('timed out'))) {
            done++
            continue
          }
          const progress = (last?: Progress['last']): void => {
            const elapsedS = (Date.now() - started) / 1000
            plan.onProgress?.({
              done,
              total,
              scenario,
              system: ls.system.name,
              repetition: rep,
              repetitions: plan.repetitions,
              ...(last ? { last } : {}),
              elapsedS,
              etaS: done > 0 ? (elapsedS / done) * (total - done) : Number.NaN,
            })
          }
          progress()
          const setup = await setupOf(ls)
          if (!setup.ok) {
            for (const s of plan.scenarios) {
              const c = cells.get(key(ls.system.name, s))!
              if (c.status === 'ok') {
                c.status = 'na'
                c.reason = setup.reason
              }
            }
            done++
            progress({ error: setup.reason })
            continue
          }
          try {
            const c = compiled?.get(ls.module)
            const outcome = await runOnce({
              module: c?.module ?? ls.module,
              ...(c ? { main: c.main, needsTsx: c.needsTsx } : {}),
              system: ls.system.name,
              inProcess: ls.system.inProcess ?? false,
              scenario,
              config: setup.config,
              params: plan.params,
              timeoutMs,
            })
            const figures = figuresOf(scenario, outcome)
            cell.runs.push(figures)
            done++
            progress({ value: figures.value })
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err)
            cell.errors.push(message)
            done++
            progress({ error: message })
          }
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await env.teardownAll()
  }
  for (const cell of cells.values()) {
    if (cell.status !== 'ok') continue
    if (cell.runs.length === 0) {
      cell.status = 'error'
      cell.reason = cell.errors[0] ?? 'no run completed'
    } else {
      summarizeCell(cell)
      if (cell.errors.length > 0) cell.reason = `${cell.errors.length} run(s) failed: ${cell.errors[0]}`
    }
  }
  return [...cells.values()]
}
