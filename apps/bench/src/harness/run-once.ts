/**
 * Runs one repetition of one cell: starts the role processes of the scenario (the first role, then
 * the second), collects the driver's
 * result, then stops every process (killing what does not exit).
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { type RoleName, scenarioDefs } from '../scenarios.js'
import type { ScenarioName } from '../types.js'
import type {
  ChildMessage,
  DriverResult,
  ParentMessage,
  RoleSpec,
  RunParams,
  SubscriberReport,
} from './messages.js'

const require = createRequire(import.meta.url)
const tsxLoader = require.resolve('tsx')
const roleMain = fileURLToPath(new URL('./role-main.ts', import.meta.url))

/** One run's raw outcome. */
export interface RunOutcome {
  readonly driver: DriverResult
  /** Fan-out: per-subscriber reports, by index. */
  readonly subscribers: SubscriberReport[]
}

/** What to run. */
export interface RunRequest {
  readonly module: string
  /** The role-main to run (default: the TypeScript source). */
  readonly main?: string
  /** Start role processes with tsx and the `source` condition (default true). */
  readonly needsTsx?: boolean
  readonly system: string
  readonly inProcess: boolean
  readonly scenario: ScenarioName
  readonly config: unknown
  readonly params: RunParams
  /** The whole run fails after this many ms. */
  readonly timeoutMs: number
}

interface Child {
  readonly proc: ChildProcess
  readonly roles: RoleSpec['roles']
  stderr: string
  loaded: Promise<void>
  ready: Promise<void>
}

/** Every role process alive, so that an interrupted benchmark can kill them all. */
const live = new Set<ChildProcess>()

/** Kills every role process still running (on SIGINT/SIGTERM of the harness). */
export function killAllRoles(): void {
  for (const p of live) p.kill('SIGKILL')
}

let runCounter = 0

/** Runs one repetition; rejects with the reason (a child's error, a timeout) when it fails. */
export async function runOnce(req: RunRequest): Promise<RunOutcome> {
  const def = scenarioDefs[req.scenario]
  const runId = `${process.pid.toString(36)}${(++runCounter).toString(36)}${Date.now().toString(36).slice(-4)}`
  const children: Child[] = []
  const subscriberReports: SubscriberReport[] = []
  let driverChild: Child | undefined
  let fail: (err: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => {
    fail = reject
  })
  failed.catch(() => {})
  let resultResolve: (r: DriverResult) => void = () => {}
  const resultP = new Promise<DriverResult>((r) => {
    resultResolve = r
  })
  let reportsResolve: () => void = () => {}
  const reportsP = new Promise<void>((r) => {
    reportsResolve = r
  })
  let finished = false
  const subscriberCount = def.second.role === 'subscriber' ? def.second.count : 0

  const start = (roles: RoleSpec['roles']): Child => {
    const spec: RoleSpec = {
      module: req.module,
      system: req.system,
      roles,
      scenario: req.scenario,
      runId,
      config: req.config,
      params: req.params,
    }
    const proc = fork(req.main ?? roleMain, [JSON.stringify(spec)], {
      execArgv: [
        ...(req.needsTsx === false ? [] : ['--conditions=source', '--import', tsxLoader]),
        // BENCH_PROF=<dir>: every role process writes a CPU profile there (see README).
        ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []),
        // BENCH_NODE_ARGS: more node flags for every role process, e.g. `--trace-gc` with BENCH_DEBUG=1.
        ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ],
      stdio: [
        'ignore',
        process.env.BENCH_DEBUG ? 'inherit' : 'ignore',
        process.env.BENCH_DEBUG ? 'inherit' : 'pipe',
        'ipc',
      ],
      serialization: 'json',
    })
    live.add(proc)
    proc.once('exit', () => live.delete(proc))
    let readyResolve: () => void = () => {}
    let loadedResolve: () => void = () => {}
    const child: Child = {
      proc,
      roles,
      stderr: '',
      loaded: new Promise<void>((r) => {
        loadedResolve = r
      }),
      ready: new Promise<void>((r) => {
        readyResolve = r
      }),
    }
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
      child.stderr = (child.stderr + d).slice(-4000)
    })
    const label = roles.map((r) => `${r.role}${r.count > 1 ? ` ${r.index}` : ''}`).join('+')
    proc.on('message', (msg: ChildMessage) => {
      switch (msg.type) {
        case 'loaded':
          loadedResolve()
          break
        case 'ready':
          readyResolve()
          break
        case 'result':
          resultResolve(msg.result)
          break
        case 'error':
          fail(new Error(`${label}: ${msg.message}`))
          break
        case 'report':
          subscriberReports[msg.index] = msg.report
          if (subscriberReports.filter(Boolean).length === subscriberCount) reportsResolve()
          break
      }
    })
    proc.on('exit', (code, signal) => {
      if (!finished) {
        // The first line naming an error says more than a stack's last frames.
        const lines = child.stderr.trim().split('\n')
        const tail = (lines.find((l) => /\b\w*Error\b|ERR_[A-Z_]+/.test(l)) ?? lines.at(-1) ?? '').trim()
        fail(new Error(`${label} exited (${code ?? signal}) during the run${tail ? `: ${tail}` : ''}`))
      }
    })
    children.push(child)
    return child
  }

  // BENCH_DEBUG=1 prints where the time of each run goes.
  const t0 = Date.now()
  const mark = (what: string): void => {
    if (process.env.BENCH_DEBUG)
      process.stderr.write(`  ${req.system}/${req.scenario} ${what} +${Date.now() - t0}ms\n`)
  }
  const timer = setTimeout(() => fail(new Error(`run timed out after ${req.timeoutMs} ms`)), req.timeoutMs)
  try {
    const roleList = (role: RoleName, count: number): RoleSpec['roles'] =>
      Array.from({ length: count }, (_, index) => ({ role, index, count }))
    // Start every process at once (they load their libraries in parallel), then open the first
    // role (servers, workers, the publisher), and only when it is ready the second.
    const openAll = async (group: Child[]): Promise<void> => {
      for (const c of group) sendTo(c, { type: 'open' })
      await Promise.race([Promise.all(group.map((c) => c.ready)), failed])
    }
    if (req.inProcess) {
      driverChild = start([
        ...roleList(def.first.role, def.first.count),
        ...roleList(def.second.role, def.second.count),
      ])
      await Promise.race([driverChild.loaded, failed])
      await openAll([driverChild])
    } else {
      const first = roleList(def.first.role, def.first.count).map((r) => start([r]))
      const second = roleList(def.second.role, def.second.count).map((r) => start([r]))
      await Promise.race([Promise.all([...first, ...second].map((c) => c.loaded)), failed])
      mark('loaded')
      await openAll(first)
      await openAll(second)
      driverChild = [...first, ...second].find((c) => c.roles[0]?.role === def.driver)
    }
    mark('ready')
    sendTo(driverChild, { type: 'go' })
    const driver = await Promise.race([resultP, failed])
    mark('result')
    if (driver.fanout) {
      for (const c of children) {
        if (c.roles.some((r) => r.role === 'subscriber')) {
          sendTo(c, { type: 'finish', firstSeq: driver.fanout.firstSeq, lastSeq: driver.fanout.lastSeq })
        }
      }
      await Promise.race([reportsP, failed])
    }
    return { driver, subscribers: subscriberReports }
  } finally {
    finished = true
    clearTimeout(timer)
    await stopAll(children)
    mark('stopped')
  }
}

function sendTo(child: Child | undefined, msg: ParentMessage): void {
  if (child?.proc.connected) child.proc.send(msg)
}

/** Asks every child to close, then kills those still running after 5 s. */
async function stopAll(children: Child[]): Promise<void> {
  // Drivers and clients first, then servers, as a real deployment would shut down.
  for (const c of [...children].reverse()) sendTo(c, { type: 'stop' })
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve()
          const t = setTimeout(() => {
            c.proc.kill('SIGKILL')
          }, 5_000)
          c.proc.once('exit', () => {
            clearTimeout(t)
            resolve()
          })
        }),
    ),
  )
}
