/**
 * Starts the broker of a bus as a detached background process (it outlives the bus that started
 * it, like the socket transport's hub). Two buses racing to start it get one broker: the second
 * process finds the bus lock held and exits.
 * @module
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { BusPaths } from './paths.js'

const require = createRequire(import.meta.url)

/**
 * Spawns `broker-main` (the .ts through tsx when running from source) detached, logging to paths.log.
 * `tuneMalloc` false passes `--keep-malloc` (see ShmOptions.tuneMalloc).
 */
export function spawnBroker(paths: BusPaths, idleMs: number, tuneMalloc = true): void {
  const here = fileURLToPath(import.meta.url)
  const fromSource = here.endsWith('.ts')
  const main = here.replace(/spawn-broker\.(ts|js)$/, fromSource ? 'broker-main.ts' : 'broker-main.js')
  const loader = fromSource ? ['--conditions=source', '--import', require.resolve('tsx')] : []
  const log = openSync(paths.log, 'a', 0o600)
  try {
    const child = spawn(
      process.execPath,
      [
        ...loader,
        main,
        '--dir',
        paths.dir,
        '--bus',
        paths.bus,
        '--idle',
        String(idleMs),
        ...(tuneMalloc ? [] : ['--keep-malloc']),
      ],
      { detached: true, stdio: ['ignore', 'ignore', log], env: process.env },
    )
    child.unref()
  } finally {
    closeSync(log)
  }
}
