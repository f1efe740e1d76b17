/**
 * Starting the peer script in a child process without any test helper package: from sources
 * through tsx (as in the unipc workspace), or plain node on the built JavaScript.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)
const require = createRequire(import.meta.url)

function tsxLoader(): string | undefined {
  try {
    return require.resolve('tsx')
  } catch {
    return undefined
  }
}

/**
 * The peer script to run: `src/peer.ts` when this package runs from its sources and tsx is
 * installed, else the built `peer.js`.
 */
export function peerScript(): string {
  const dir = dirname(here)
  if (here.endsWith('.ts')) {
    const built = join(dir, '..', 'dist', 'peer.js')
    return tsxLoader() || !existsSync(built) ? join(dir, 'peer.ts') : built
  }
  return join(dir, 'peer.js')
}

/**
 * Starts `script` with `args`: `node --conditions=source --import tsx` for a .ts script (workspace
 * packages resolve to their sources), plain `node` for a .js one. stdin and stdout are piped.
 */
export function defaultSpawn(script: string, args: string[]): ChildProcess {
  const loader = script.endsWith('.ts') ? tsxLoader() : undefined
  if (script.endsWith('.ts') && !loader) {
    throw new Error(`conformance: running ${script} needs tsx (npm install -D tsx) or a built peer.js`)
  }
  const nodeArgs = loader ? ['--conditions=source', '--import', loader] : []
  return spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
}
