/**
 * How figures are printed: compact numbers with the spread of repetitions, and cell texts shared
 * by the terminal table and the Markdown report.
 * @module
 */
import type { CellResult } from '../harness/results.js'
import type { Summary } from '../harness/stats.js'
import { scenarioDefs } from '../scenarios.js'

/** A number with 2–3 significant digits and k/M suffixes: 36.2, 181k, 2.05M. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '–'
  const a = Math.abs(n)
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`
  if (a >= 1e4) return `${Math.round(n / 1e3)}k`
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  if (a >= 100) return n.toFixed(0)
  if (Number.isInteger(n)) return String(n)
  if (a >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

/** A duration given in µs, printed in µs or ms. */
export function micros(us: number): string {
  return us >= 1000 ? `${num(us / 1000)}ms` : `${num(us)}µs`
}

/** `median (min–max)`. */
export function spread(s: Summary): string {
  return `${num(s.median)} (${num(s.min)}–${num(s.max)})`
}

/** The headline text of a cell: the median, and the secondary figure of its scenario. */
export function cellText(cell: CellResult | undefined, withSpread: boolean): string {
  if (!cell) return ''
  if (cell.status === 'na') return 'n/a'
  if (cell.status === 'error' || !cell.value) return 'error'
  const main = withSpread ? spread(cell.value) : num(cell.value.median)
  const x = cell.extras ?? {}
  switch (cell.scenario) {
    case 'rtt':
      return x.p99 ? `${main} p99 ${num(x.p99.median)}` : main
    case 'large':
      return x.p50 ? `${main} p50 ${micros(x.p50.median)}` : main
    case 'fanout':
      return x.lost ? `${main} lost ${num(Math.round(x.lost.median))}` : main
    default:
      return main
  }
}

/** The unit line of a scenario's column. */
export function unitOf(scenario: keyof typeof scenarioDefs): string {
  return scenarioDefs[scenario].unit
}
