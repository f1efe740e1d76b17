/**
 * Test helper: runs `unipc-hub` (from its TypeScript source) in a child process and reports the
 * URLs it listens on.
 * @module
 */
import { fileURLToPath } from 'node:url'
import { type ChildHandle, spawnTs } from '@unipc/testkit'

/** The hub program's source. */
export const hubBin = fileURLToPath(new URL('../../src/bin/unipc-hub.ts', import.meta.url))

/** A hub running in another process. */
export interface HubProcess {
  readonly child: ChildHandle
  /** URLs printed by the hub, in `--listen` order. */
  readonly urls: string[]
  /** Stops it (SIGTERM, or the given signal) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

/** Starts `unipc-hub` with `args` and waits until every listener is up. */
export async function startHubProcess(args: string[]): Promise<HubProcess> {
  const child = spawnTs(hubBin, args)
  const count = args.filter((a) => a === '--listen').length
  try {
    await waitLines(child, count)
  } catch (err) {
    await child.kill('SIGKILL')
    throw err
  }
  const urls = child
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('unipc-hub listening on '))
    .map((l) => l.slice('unipc-hub listening on '.length).trim())
  return { child, urls, stop: (signal = 'SIGTERM') => child.kill(signal) }
}

async function waitLines(child: ChildHandle, count: number): Promise<void> {
  const end = Date.now() + 30_000
  while (
    child
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('unipc-hub listening on ')).length < count
  ) {
    if (Date.now() > end || child.process.exitCode !== null)
      throw new Error(`hub did not report ${count} listeners: ${child.stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
