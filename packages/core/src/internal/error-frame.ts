/**
 * The error a handler threw, in a form that is sure to fit an Error frame. Frames are msgpack
 * without the application codec's extensions, so some `data` (a BigInt beyond 64 bits, a cycle,
 * a class instance with odd fields) cannot be packed as is; without care the reply would be lost
 * and the caller would wait for its timeout instead of getting the RemoteError.
 * @module
 */
import { type SerializedError, serializeError } from '../errors.js'
import { encodeInbox, FrameKind } from './frames.js'

/** How deep error data is copied before the rest is cut. */
const MAX_DEPTH = 32

/**
 * Serializes `err` for an Error frame. When its `data` cannot be packed, the data is turned into
 * plain values (BigInt as a decimal string, Map as an object, Set as an array, cycles and functions
 * dropped); if even that fails the data is left out and the message says so.
 * @param err - what the handler threw
 * @param withStack - include the stack
 */
export function encodableError(err: unknown, withStack: boolean): SerializedError {
  const e = serializeError(err, withStack)
  if (e.data === undefined || fits(e)) return e
  const plain = { ...e, data: toPlain(e.data, new Set(), 0) }
  if (fits(plain)) return plain
  const { data: _dropped, ...rest } = e
  return { ...rest, message: `${e.message} (its error data could not be encoded and was left out)` }
}

function fits(e: SerializedError): boolean {
  try {
    encodeInbox({ kind: FrameKind.Error, id: 0, error: e })
    return true
  } catch {
    return false
  }
}

function toPlain(v: unknown, seen: Set<object>, depth: number): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'function' || typeof v === 'symbol') return undefined
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Date || ArrayBuffer.isView(v)) return v
  if (seen.has(v) || depth >= MAX_DEPTH) return undefined
  seen.add(v)
  try {
    if (v instanceof Error) return toPlain(serializeError(v), seen, depth + 1)
    if (v instanceof Map) {
      const out: Record<string, unknown> = {}
      for (const [k, x] of v) out[String(k)] = toPlain(x, seen, depth + 1)
      return out
    }
    if (v instanceof Set || Array.isArray(v)) return [...v].map((x) => toPlain(x, seen, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x, seen, depth + 1)
    return out
  } finally {
    seen.delete(v)
  }
}
