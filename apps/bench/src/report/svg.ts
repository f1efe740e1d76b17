/**
 * docs/benchmarks.svg: one panel of horizontal bars per scenario (medians), coloured by group
 * (unipc, baseline, peer), with the figure printed at the end of each bar.
 * @module
 */
import type { BenchResults } from '../harness/results.js'
import { num } from './format.js'

const colors = { unipc: '#2f6fdf', baseline: '#7a7a7a', peer: '#e08a1e' } as const
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Renders the bar chart. */
export function renderSvg(r: BenchResults): string {
  const label = 170
  const bar = 230
  const row = 14
  const panelW = label + bar + 60
  const panelH = 28 + r.systems.length * row
  const cols = 2
  const rows = Math.ceil(r.scenarios.length / cols)
  const width = cols * panelW + 20
  const height = rows * (panelH + 16) + 40
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="13" font-weight="bold">unipc benchmarks, ${esc(r.meta.date.slice(0, 10))} (medians; blue unipc, grey baselines, orange peers)</text>`,
  ]
  r.scenarios.forEach((s, i) => {
    const x0 = 10 + (i % cols) * panelW
    const y0 = 36 + Math.floor(i / cols) * (panelH + 16)
    out.push(
      `<text x="${x0}" y="${y0 + 12}" font-weight="bold">${esc(`${s.title} (${s.unit}, ${s.lowerIsBetter ? 'lower' : 'higher'} is better)`)}</text>`,
    )
    const values = r.systems.map((sys) => {
      const c = r.cells.find((x) => x.system === sys.name && x.scenario === s.name)
      return c?.status === 'ok' && c.value && Number.isFinite(c.value.median) ? c.value.median : undefined
    })
    const max = Math.max(1e-9, ...values.filter((v): v is number => v !== undefined))
    r.systems.forEach((sys, j) => {
      const y = y0 + 20 + j * row
      const v = values[j]
      out.push(`<text x="${x0 + label - 4}" y="${y + 10}" text-anchor="end">${esc(sys.name)}</text>`)
      if (v === undefined) {
        out.push(`<text x="${x0 + label + 2}" y="${y + 10}" fill="#999">n/a</text>`)
        return
      }
      const w = Math.max(1, (v / max) * bar)
      out.push(
        `<rect x="${x0 + label}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 4}" fill="${colors[sys.group]}"/>`,
      )
      out.push(`<text x="${(x0 + label + w + 3).toFixed(1)}" y="${y + 10}">${esc(num(v))}</text>`)
    })
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
