/**
 * Runs demos in sequence and narrates them.
 * @module
 */
import { connect, defaultUrl } from '@unipc/core'
import type { Demo } from './demo.js'

/** Options of {@link runDemos}. */
export interface RunOptions {
  /** Transport URL; undefined: UNIPC_URL, else the embedded default hub. */
  readonly url?: string
  /** Where lines go (default stdout). */
  readonly write?: (line: string) => void
  /** Bold headers and dim timings (default: stdout is a TTY and NO_COLOR is unset). */
  readonly color?: boolean
}

/** The outcome of one demo. */
export interface DemoResult {
  readonly name: string
  readonly ok: boolean
  readonly skipped?: string
  readonly ms: number
  readonly error?: Error
}

/**
 * Runs `demos` one after the other, narrating each step; a failing demo is reported and the next
 * one still runs.
 * @returns one result per demo
 */
export async function runDemos(demos: readonly Demo[], options: RunOptions = {}): Promise<DemoResult[]> {
  const write = options.write ?? ((l: string) => process.stdout.write(`${l}\n`))
  const color = options.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined)
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[22m` : s)
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[22m` : s)
  const url = options.url ?? process.env.UNIPC_URL
  const crossProcess = !url?.startsWith('memory:')
  write(
    `unipc demo on ${url ?? `${defaultUrl().split('?')[0]} (the embedded default hub, started if needed)`}`,
  )
  // One connection first, so an unreachable transport is one clear message instead of five failures.
  try {
    const probe = url === undefined ? await connect() : await connect(url)
    await probe.close()
  } catch (err) {
    write(`cannot connect: ${(err as Error).message}`)
    write('try --url memory: (everything in one process), or start a hub with: npx unipc hub')
    return demos.map((d) => ({ name: d.name, ok: false, ms: 0, error: err as Error }))
  }
  const results: DemoResult[] = []
  for (const [i, demo] of demos.entries()) {
    write('')
    write(bold(`${i + 1}/${demos.length} ${demo.name} — ${demo.title}`))
    if (demo.crossProcess && !crossProcess) {
      const skipped = 'needs buses in several processes; memory: is one process'
      write(dim(`  skipped: ${skipped}`))
      results.push({ name: demo.name, ok: true, skipped, ms: 0 })
      continue
    }
    const started = performance.now()
    try {
      await demo.run({ url, say: (who, what) => write(`  ${who.padEnd(12)} ${what}`) })
      const ms = Math.round(performance.now() - started)
      write(dim(`  ✓ done in ${(ms / 1000).toFixed(1)} s`))
      results.push({ name: demo.name, ok: true, ms })
    } catch (err) {
      const ms = Math.round(performance.now() - started)
      write(`  ✗ ${demo.name} failed: ${(err as Error).message}`)
      results.push({ name: demo.name, ok: false, ms, error: err as Error })
    }
  }
  return results
}
