/**
 * Terminal output: colours only on a TTY (and never with NO_COLOR or --no-color), JSON that keeps
 * bytes and bigints readable, and simple aligned tables.
 * @module
 */
import { preview } from '@unipc/core'

// Matches the colour codes this module writes (ESC [ n m), to measure text without them.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')

/** ANSI styles the command uses. */
export type Style = 'dim' | 'bold' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray'

const codes: Record<Style, [number, number]> = {
  dim: [2, 22],
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
}

/** Where a command writes, with colour decided once. */
export interface Output {
  /** True when colours are on. */
  readonly color: boolean
  /** Writes one line to stdout. */
  line(text: string): void
  /** Writes one line to stderr. */
  error(text: string): void
  /** Wraps text in a style when colours are on. */
  paint(style: Style, text: string): string
}

/**
 * Makes the output for this process.
 * @param noColor - the --no-color flag
 */
export function makeOutput(noColor: boolean): Output {
  const env = process.env
  const color =
    !noColor &&
    env.NO_COLOR === undefined &&
    (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' ? true : process.stdout.isTTY === true)
  return {
    color,
    line: (text) => process.stdout.write(`${text}\n`),
    error: (text) => process.stderr.write(`${text}\n`),
    paint: (style, text) => (color ? `\x1b[${codes[style][0]}m${text}\x1b[${codes[style][1]}m` : text),
  }
}

/** One-line JSON of any decoded value (bytes as `<N bytes>`); `undefined` prints as `null`. */
export function toJson(value: unknown): string {
  return value === undefined ? 'null' : preview(value)
}

/**
 * Formats rows as columns separated by two spaces; the header is bold when colours are on.
 * Cells may contain ANSI codes: widths are measured without them.
 */
export function table(out: Output, header: string[], rows: string[][]): string[] {
  const plain = (s: string): string => s.replace(ANSI, '')
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => plain(r[i] ?? '').length)))
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - plain(c).length)))
      .join('  ')
      .trimEnd()
  return [out.paint('bold', fmt(header)), ...rows.map(fmt)]
}

/** `HH:MM:SS.mmm` in local time. */
export function clock(epochMs: number): string {
  const d = new Date(epochMs)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

/** How long ago, in words short enough for a table cell. */
export function ago(epochMs: number | undefined, now = Date.now()): string {
  if (epochMs === undefined) return '-'
  const s = Math.max(0, Math.round((now - epochMs) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}
