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
 * One readable line, e.g.
 * `12:00:01.234 command  ui → camera #3 {"op":"snap"}`,
 * `12:00:01.240 reply    camera → ui #3 {"frame":1} (6 ms)`,
 * `12:00:01.250 setting  ui → camera.exposure = 30`, `12:00:01.260 status   camera state = "idle"`.
 * @param out - decides colours
 * @param r - the record
 */
export function formatTrace(out: Output, r: TraceRecord): string {
  const parts = [out.paint('dim', clock(r.t)), out.paint(kindStyle[r.kind], r.kind.padEnd(8))]
  if (r.kind === 'status' && r.key === '$alive') {
    parts.push(
      `${r.dst} is ${r.data === 'online' ? out.paint('green', 'online') : out.paint('red', 'offline')}`,
    )
    return parts.join(' ')
  }
  if (r.kind === 'status') parts.push(`${r.dst} ${r.key} =`)
  else if (r.kind === 'setting') parts.push(`${r.src} → ${r.dst}.${r.key} =`)
  else parts.push(`${r.src} → ${r.dst}`)
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
