/**
 * How `unipc monitor` prints a trace record: time, kind, source → target, compact payload.
 * @module
 */
import type { TraceKind, TraceRecord } from '@unipc/core'
import { clock, type Output, type Style, toJson } from './cli/output.js'

const kindStyle: Record<TraceKind, Style> = {
  command: 'yellow',
  reply: 'green',
  request: 'blue',
  response: 'cyan',
  setting: 'magenta',
  status: 'gray',
  event: 'bold',
}

const MAX_DATA = 200

/**
 * One readable line: `12:00:01.234 command  ui → camera #3 {"op":"snap"}`.
 * @param out - decides colours
 * @param r - the record
 */
export function formatTrace(out: Output, r: TraceRecord): string {
  const target = r.key !== undefined ? `${r.dst}.${r.key}` : r.dst
  const parts = [
    out.paint('dim', clock(r.t)),
    out.paint(kindStyle[r.kind], r.kind.padEnd(8)),
    `${r.src} → ${target}`,
  ]
  if (r.id !== undefined) parts.push(out.paint('dim', `#${r.id}`))
  if (r.error !== undefined) parts.push(out.paint('red', `! ${r.error}`))
  else if (r.data !== undefined) {
    const text = typeof r.data === 'string' && r.truncated ? r.data : toJson(r.data)
    parts.push(text.length > MAX_DATA ? `${text.slice(0, MAX_DATA)}…` : text)
  }
  if (r.ms !== undefined) parts.push(out.paint('dim', `(${r.ms} ms)`))
  return parts.join(' ')
}

/** The record as one JSON line (`--json`). */
export function jsonTrace(r: TraceRecord): string {
  return toJson(r)
}
