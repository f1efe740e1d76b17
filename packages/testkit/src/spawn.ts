/**
 * Runs a TypeScript file in a child Node process with workspace packages resolved to their sources
 * (the `source` export condition) through tsx, so cross-process tests need no build step.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const tsxLoader = require.resolve('tsx')

/** Options of {@link spawnTs}. */
export interface SpawnTsOptions {
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>
  /** Working directory. */
  cwd?: string
  /** Detach the child (own process group), e.g. for background servers. */
  detached?: boolean
  /**
   * Run with tsx and the `source` condition (default). False runs plain `node`, so a built `.js`
   * file and the workspace packages it imports load from their `dist/`.
   */
  tsx?: boolean
}

/** A running child process with helpers to read its output. */
export interface ChildHandle {
  readonly process: ChildProcess
  /** Everything the child wrote to stdout so far. */
  readonly stdout: () => string
  /** Everything the child wrote to stderr so far. */
  readonly stderr: () => string
  /** Resolves with the first stdout line matching `pattern` (rejects after `timeoutMs` or on exit). */
  waitForLine(pattern: RegExp | string, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code (or signal name) when the child exits. */
  exited: Promise<number | string>
  /** Sends a signal (default SIGTERM) and waits for exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>
}

/**
 * Starts `node --conditions=source --import tsx <file> ...args`.
 * @param file - absolute path of a .ts (or .js) file
 * @param args - command-line arguments
 */
export function spawnTs(file: string, args: string[] = [], options: SpawnTsOptions = {}): ChildHandle {
  const loader = options.tsx === false ? [] : ['--conditions=source', '--import', tsxLoader]
  const child = spawn(process.execPath, [...loader, file, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  let out = ''
  let err = ''
  const lineWaiters = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
    for (const w of lineWaiters) w()
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? -1)
      for (const w of lineWaiters) w()
    })
  })
  const handle: ChildHandle = {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      const re =
        typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = out.split('\n').find((l) => re.test(l))
          if (line !== undefined) {
            done()
            resolve(line)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done()
            reject(new Error(`child exited before printing ${re}; stdout:\n${out}\nstderr:\n${err}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out waiting for ${re}; stdout:\n${out}\nstderr:\n${err}`))
        }, timeoutMs)
        const done = (): void => {
          clearTimeout(timer)
          lineWaiters.delete(check)
        }
        lineWaiters.add(check)
        check()
      })
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  return handle
}
