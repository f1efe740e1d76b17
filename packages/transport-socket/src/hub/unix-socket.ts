/**
 * Claiming a unix socket path safely when several hubs may start at once: a lock file (created
 * with O_EXCL, holding the owner's pid) serialises the check-for-a-live-hub / remove-stale-socket /
 * bind sequence, so exactly one hub ends up listening and the others learn that one runs.
 * @module
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { ConnectionError } from '@unipc/core/spi'

/** Thrown when another hub already listens on the socket path. */
export class HubAlreadyRunningError extends ConnectionError {
  /** @param path - the socket path */
  constructor(readonly path: string) {
    super(`a unipc hub already listens on ${path}; connect to it or stop it first`)
  }
}

const STALE_LOCK_MS = 10_000

/** Tells whether something accepts connections on a unix socket path. */
export function isListening(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    const done = (v: boolean): void => {
      clearTimeout(timer)
      s.destroy()
      resolve(v)
    }
    // A hub that does not answer in time is assumed alive: never steal a socket from a busy hub.
    const timer = setTimeout(() => done(true), timeoutMs)
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/** Runs `fn` holding the lock of a socket path (`<path>.lock`). */
export async function withSocketLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const lock = `${path}.lock`
  const deadline = Date.now() + 2 * STALE_LOCK_MS
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (lockIsStale(lock)) {
        try {
          unlinkSync(lock)
        } catch {}
        continue
      }
      if (Date.now() > deadline)
        throw new ConnectionError(`cannot take ${lock}: remove it if no hub is starting`)
      await new Promise((r) => setTimeout(r, 15 + Math.random() * 20))
    }
  }
  try {
    return await fn()
  } finally {
    try {
      unlinkSync(lock)
    } catch {}
  }
}

/**
 * Prepares `path` for binding: fails with {@link HubAlreadyRunningError} when a hub answers there,
 * removes a stale socket file left by a hub that died. Call it under {@link withSocketLock}.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return
  if (await isListening(path)) throw new HubAlreadyRunningError(path)
  try {
    unlinkSync(path)
  } catch {}
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8'))
    if (pid > 0) {
      try {
        process.kill(pid, 0)
        return false
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH'
      }
    }
    // Written but empty: its owner died between create and write, or is writing right now.
    return Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS
  } catch {
    return false
  }
}
