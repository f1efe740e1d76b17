/**
 * Values cross rpc-over-redis as JSON. These convert between JSON and the types a definition
 * declares: Python's `None` for an absent optional, Maps as objects, Dates as ISO strings, bytes as
 * base64 strings, bigints as numbers (or decimal strings beyond the safe range).
 * @module
 */
import { asDescriptor, type Type } from '../../types/descriptors.js'
import { isValid, type ModelResolver } from '../../types/validate.js'

/** Turns a decoded JSON value into the shape `type` declares (best effort; validation follows). */
export function fromJson(type: Type, value: unknown, resolve: ModelResolver, depth = 0): unknown {
  if (depth > 256) return value
  const d = asDescriptor(type)
  const next = (t: Type, v: unknown): unknown => fromJson(t, v, resolve, depth + 1)
  switch (d.kind) {
    case 'optional':
      return value === null || value === undefined ? undefined : next(d.inner, value)
    case 'nullable':
      return value === null ? null : next(d.inner, value)
    case 'timestamp':
      return typeof value === 'string' || typeof value === 'number' ? new Date(value) : value
    case 'binary':
      return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value
    case 'bigint':
      return typeof value === 'number' && Number.isInteger(value)
        ? BigInt(value)
        : typeof value === 'string' && /^-?\d+$/.test(value)
          ? BigInt(value)
          : value
    case 'array':
      return Array.isArray(value) ? value.map((v) => next(d.items, v)) : value
    case 'map':
      if (!isPlainObject(value)) return value
      return new Map(
        Object.entries(value).map(([k, v]) => [next(d.key, keyFromJson(d.key, k)), next(d.value, v)]),
      )
    case 'record':
      return isPlainObject(value) ? mapValues(value, (v) => next(d.value, v)) : value
    case 'object':
    case 'model': {
      if (!isPlainObject(value)) return value
      const out: Record<string, unknown> = { ...value }
      for (const [name, ft] of Object.entries(d.fields)) {
        if (name in out) out[name] = next(ft, out[name])
      }
      return out
    }
    case 'ref': {
      const model = resolve(d.name)
      return model ? next(model, value) : value
    }
    case 'union': {
      for (const variant of d.variants) {
        const v = next(variant, value)
        if (isValid(variant, v, resolve)) return v
      }
      return value
    }
    default:
      return value
  }
}

function keyFromJson(keyType: Type, key: string): unknown {
  const kind = asDescriptor(keyType).kind
  if (kind === 'string' || kind === 'enum') return key
  const n = Number(key)
  return Number.isNaN(n) ? key : n
}

/** Turns a value into plain JSON data (Map -> object, Date -> ISO string, bytes -> base64, undefined -> null). */
export function toJson(value: unknown, depth = 0): unknown {
  if (depth > 256) return null
  if (value === undefined || value === null) return null
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value !== 'object') return value
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1))
  if (value instanceof Set) return [...value].map((v) => toJson(v, depth + 1))
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) out[String(k)] = toJson(v, depth + 1)
    return out
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, depth + 1)
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  )
}

function mapValues(o: Record<string, unknown>, f: (v: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k] = f(v)
  return out
}
