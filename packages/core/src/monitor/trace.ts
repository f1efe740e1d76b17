/**
 * Trace records: the compact description of one piece of bus traffic that buses publish while a
 * monitor is present (see `monitor()`), and the reserved names they travel on.
 *
 * Records travel on channels `$unipc.trace.<kind>`. Channels whose first token starts with `$` are
 * reserved: a subscription pattern matches them only when its own first token is literal (so `>`
 * and `*.x` never see trace traffic, `$unipc.trace.>` does).
 * @module
 */
import { Packr } from 'msgpackr'
import { ProtocolError } from '../errors.js'

/** The channel prefix of trace records: `$unipc.trace.<kind>`. */
export const TRACE_PREFIX = '$unipc.trace'

/** The map in which monitors announce themselves; buses trace only while it holds a fresh entry. */
export const MONITORS_MAP = '$unipc/monitors'

/** What a trace record describes. */
export type TraceKind = 'command' | 'reply' | 'request' | 'response' | 'setting' | 'status' | 'event'

/** Every trace kind, in display order. */
export const TRACE_KINDS: readonly TraceKind[] = [
  'command',
  'reply',
  'request',
  'response',
  'setting',
  'status',
  'event',
]

/** One piece of traffic as a monitor sees it. */
export interface TraceRecord {
  /** Epoch ms when the traffic happened, by the clock of the bus that traced it. */
  readonly t: number
  /** What happened. */
  readonly kind: TraceKind
  /** Who sent it: a component name, or `@<address>` for a bus without a component. */
  readonly src: string
  /** Where it went: a component or queue, a method, a channel, or the component whose setting changed. */
  readonly dst: string
  /** The setting or status field, for `setting` and `status`. */
  readonly key?: string
  /** The call id (pairs a command or request with its reply). */
  readonly id?: number
  /** The payload, or a shortened preview string when it is large (then `truncated` is true). */
  readonly data?: unknown
  /** True when `data` is a preview of a larger payload. */
  readonly truncated?: boolean
  /** Encoded payload size in bytes. */
  readonly size?: number
  /** For a failed reply or response: `Name: message`. */
  readonly error?: string
  /** For replies and responses: milliseconds since the call was sent. */
  readonly ms?: number
}

/** Payloads up to this many encoded bytes are carried whole in a record; larger ones as a preview. */
export const MAX_TRACE_DATA = 1024
const PREVIEW_CHARS = 160

// Records are core's own format: always msgpack, whatever the application codec.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true })

/** The channel a record of `kind` is published on. */
export function traceChannel(kind: TraceKind): string {
  return `${TRACE_PREFIX}.${kind}`
}

/**
 * Fits a payload into a record: the value itself when small, else a preview string.
 * @param value - the decoded payload
 * @param size - its encoded size in bytes
 */
export function compactData(value: unknown, size: number): Pick<TraceRecord, 'data' | 'truncated' | 'size'> {
  if (size <= MAX_TRACE_DATA) return { data: value, size }
  return { data: `${preview(value).slice(0, PREVIEW_CHARS)}…`, truncated: true, size }
}

/**
 * Renders a value as short one-line JSON-like text (bytes as `<N bytes>`, bigints as numbers).
 * @param value - any decoded payload
 */
export function preview(value: unknown): string {
  if (value === undefined) return ''
  try {
    return (
      JSON.stringify(value, function (this: Record<string, unknown>, k, v: unknown) {
        // `this[k]` is the value before toJSON (a Buffer's toJSON would hide that it is bytes).
        const raw = k === '' ? value : this[k]
        if (typeof raw === 'bigint') return `${raw}n`
        if (raw instanceof Uint8Array) return `<${raw.length} bytes>`
        return v
      }) ?? String(value)
    )
  } catch {
    return String(value)
  }
}

/** Encodes a record for publishing. */
export function encodeTrace(record: TraceRecord): Uint8Array {
  try {
    return packr.pack(record)
  } catch {
    // A payload msgpack cannot carry (a class instance from a custom codec) travels as its preview.
    return packr.pack({ ...record, data: preview(record.data).slice(0, PREVIEW_CHARS), truncated: true })
  }
}

/**
 * Decodes and checks a record received from a trace channel.
 * @throws ProtocolError when the bytes are not a trace record
 */
export function decodeTrace(bytes: Uint8Array): TraceRecord {
  let v: unknown
  try {
    v = packr.unpack(bytes)
  } catch (cause) {
    throw new ProtocolError('malformed trace record: not msgpack', { cause })
  }
  const r = v as Partial<TraceRecord> | null
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.t !== 'number' ||
    typeof r.kind !== 'string' ||
    !TRACE_KINDS.includes(r.kind as TraceKind) ||
    typeof r.src !== 'string' ||
    typeof r.dst !== 'string'
  ) {
    throw new ProtocolError('malformed trace record')
  }
  return r as TraceRecord
}
