/**
 * Auto-start: when a client finds nothing listening on a local unix socket whose URL says
 * `autostart=1`, it spawns a detached hub process that outlives it, then connects. Racing clients
 * may each spawn one; the hubs settle who listens under a lock and the others exit at once.
 * @module
 */
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConnectionError, type Logger } from '@unipc/core/spi'
import { isNothingListening } from './link.js'

const START_TIMEOUT_MS = 20_000

/** The hub program next to this module: the .ts source under tests, the built .js otherwise. */
function hubCommand(): string[] {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    const tsx = createRequire(here).resolve('tsx')
    return ['--conditions=source', '--import', tsx, fileURLToPath(new URL('../bin/unipc-hub.ts', here))]
  }
  return [fileURLToPath(new URL('../bin/unipc-hub.js', here))]
}

/** Spawns a detached hub listening on `path`; its output goes to `<path>.log`. */
export function spawnHub(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const log = openSync(`${path}.log`, 'a', 0o600)
  try {
    const child = spawn(
      process.execPath,
      [...hubCommand(), '--listen', `unix://${path}`, '--pid-file', `${path}.pid`, '--autostarted'],
      { detached: true, stdio: ['ignore', log, log], env: process.env },
    )
    child.unref()
  } finally {
    closeSync(log)
  }
}

/**
 * Runs `attempt` (a connection attempt); when nothing listens, starts a hub and retries until it
 * answers.
 * @throws ConnectionError when no hub answers within 20 s
 */
export async function connectOrStart<T>(path: string, attempt: () => Promise<T>, logger: Logger): Promise<T> {
  try {
    return await attempt()
  } catch (err) {
    if (!isNothingListening(err)) throw err
  }
  logger.info(`unipc: no hub on ${path}; starting one in the background`)
  spawnHub(path)
  const deadline = Date.now() + START_TIMEOUT_MS
  let delay = 20
  for (;;) {
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 1.5, 250)
    try {
      return await attempt()
    } catch (err) {
      if (!isNothingListening(err)) throw err
      if (Date.now() > deadline)
        throw new ConnectionError(
          `started a hub for ${path} but it did not answer within ${START_TIMEOUT_MS / 1000} s; see ${path}.log`,
          { cause: err },
        )
    }
  }
}
