/**
 * Keeps the transport table of the repo's README quoting the latest full run: the block between
 * `<!-- bench:start -->` and `<!-- bench:end -->` is replaced by the unipc rows and their baselines.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { BenchResults } from '../harness/results.js'
import { cellText } from './format.js'
import { checkTargets } from './targets.js'

const START = '<!-- bench:start -->'
const END = '<!-- bench:end -->'

/** The block quoted in the README: medians of the unipc transports and the baselines, and the targets tally. */
export function readmeBlock(r: BenchResults): string {
  const shown = r.systems.filter((s) => s.group !== 'peer')
  const lines = [
    `Measured by \`npm run bench\` on ${r.meta.date.slice(0, 10)} (${r.meta.machine.cores} cores, Node ${r.meta.node}, load ${r.meta.machine.loadavg[0]}; medians of ${r.meta.repetitions}; peers and ratios in [docs/benchmarks.md](docs/benchmarks.md)):`,
    ...(r.meta.machine.loadavg[0]! > r.meta.machine.cores
      ? [
          '',
          '> This run shared the machine with other work (see the load): absolute numbers are noisy; ratios within the run hold better.',
        ]
      : []),
    '',
    `| system | ${r.scenarios.map((s) => `${s.title} (${s.unit})`).join(' | ')} |`,
    `| --- | ${r.scenarios.map(() => '---:').join(' | ')} |`,
  ]
  for (const s of shown) {
    const cells = r.scenarios.map((sc) =>
      cellText(
        r.cells.find((c) => c.system === s.name && c.scenario === sc.name),
        false,
      ),
    )
    lines.push(`| ${s.name} | ${cells.join(' | ')} |`)
  }
  const checks = checkTargets(r)
  lines.push(
    '',
    'Speed targets of the transport issues in this run (details in the Targets section of docs/benchmarks.md):',
    '',
  )
  for (const system of [...new Set(checks.map((c) => c.system))]) {
    const mine = checks.filter((c) => c.system === system)
    const met = mine.filter((c) => c.status === 'met')
    const notMet = mine.filter((c) => c.status === 'not met')
    if (met.length + notMet.length === 0) {
      lines.push(`- ${system} (#${mine[0]!.issue}): not measured`)
      continue
    }
    const missed = notMet.map((c) => c.short).join('; ')
    const unmeasured = mine.length - met.length - notMet.length
    lines.push(
      `- ${system} (#${mine[0]!.issue}): ${met.length} of ${mine.length} met${unmeasured ? ` (${unmeasured} not measured)` : ''}${missed ? `; not met: ${missed}` : ''}`,
    )
  }
  return lines.join('\n')
}

/** Rewrites the README block; returns false when the README has no markers. */
export function updateReadme(path: string, r: BenchResults): boolean {
  if (!existsSync(path)) return false
  const text = readFileSync(path, 'utf8')
  const a = text.indexOf(START)
  const b = text.indexOf(END)
  if (a < 0 || b < a) return false
  writeFileSync(path, `${text.slice(0, a + START.length)}\n${readmeBlock(r)}\n${text.slice(b)}`)
  return true
}
