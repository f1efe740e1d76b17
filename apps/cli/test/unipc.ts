/**
 * Runs the real `unipc` binary (bin/unipc.js) in a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../bin/unipc.js', import.meta.url))

/** The result of a finished run. */
export interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/** A running `unipc` process. */
export interface Live {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves once stdout or stderr (as chosen) matches. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>
  readonly exited: Promise<Ran>
  /** Sends a signal (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Ran>
}

/** Starts `unipc <args>` with UNIPC_URL (and extra env) set. */
export function startUnipc(args: readonly string[], env: Record<string, string | undefined> = {}): Live {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const buf = { stdout: '', stderr: '' }
  const waiters = new Set<() => void>()
  for (const s of ['stdout', 'stderr'] as const)
    child[s].setEncoding('utf8').on('data', (d: string) => {
      buf[s] += d
      for (const w of waiters) w()
    })
  let closed = false
  const exited = new Promise<Ran>((resolve) =>
    child.on('close', (code) => {
      closed = true
      resolve({ code, stdout: buf.stdout, stderr: buf.stderr })
      for (const w of waiters) w()
    }),
  )
  return {
    child,
    stdout: () => buf.stdout,
    stderr: () => buf.stderr,
    exited,
    waitFor(stream, pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out waiting for ${pattern} on ${stream}:\n${buf.stdout}\n${buf.stderr}`))
        }, timeoutMs)
        const check = (): void => {
          if (pattern.test(buf[stream])) {
            clearTimeout(timer)
            waiters.delete(check)
            resolve()
          } else if (closed) {
            clearTimeout(timer)
            waiters.delete(check)
            reject(new Error(`unipc exited before ${pattern}:\n${buf.stdout}\n${buf.stderr}`))
          }
        }
        waiters.add(check)
        check()
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Runs `unipc <args>` to the end. */
export function unipc(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  return startUnipc(args, env).exited
}
