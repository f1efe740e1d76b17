/**
 * The terminal table (systems × scenarios, medians) and the progress line.
 * @module
 */

import type { BenchResults } from '../harness/results.js'
import type { Progress } from '../harness/runner.js'
import { cellText, num } from './format.js'

/** Renders the results as a fixed-width table. */
export function renderTable(results: BenchResults): string {
  const header = ['system', ...results.scenarios.map((s) => `${s.title} (${s.unit})`)]
  const rows = results.systems.map((sys) => [
    sys.name,
    ...results.scenarios.map((s) =>
      cellText(
        results.cells.find((c) => c.system === sys.name && c.scenario === s.name),
        false,
      ),
    ),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Writes a progress line to stderr (rewritten in place on a terminal, one line per run otherwise). */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: Progress) => void {
  const tty = stream.isTTY === true
  return (p) => {
    const eta = Number.isFinite(p.etaS) ? `eta ${Math.ceil(p.etaS / 60)}m${Math.round(p.etaS % 60)}s` : ''
    const what = `[${String(p.done).padStart(3)}/${p.total}] ${p.scenario} · ${p.system} · rep ${p.repetition}/${p.repetitions}`
    const last = p.last
      ? p.last.error
        ? ` ✗ ${p.last.error.slice(0, 120)}`
        : ` ✓ ${num(p.last.value ?? Number.NaN)}`
      : ' …'
    const text = `${what}${last} ${eta}`
    if (tty) stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 120) - 1)}`)
    else if (p.last) stream.write(`${text}\n`)
  }
}
