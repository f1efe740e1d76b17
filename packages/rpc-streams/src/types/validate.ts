/**
 * Checks values against type descriptors. Validation never copies or changes the value; the first
 * problem found is thrown as a ValidationError whose `path` names the field (`params.info.tags[2]`).
 * Unknown object fields are allowed (a newer peer may send them), so added fields stay compatible.
 * @module
 */
import { ValidationError } from '@unipc/core'
import { asDescriptor, INT_RANGES, isIntKind, type ModelType, type Type } from './descriptors.js'

/** Finds a model by name (refs are resolved through the service's models). */
export type ModelResolver = (name: string) => ModelType | undefined

/** Options of {@link validate}. */
export interface ValidateOptions {
  /** Resolves `t.ref(name)`; without it refs fail validation. */
  readonly resolve?: ModelResolver
  /** Path prefix of the value, e.g. `params` (default: empty). */
  readonly path?: string
}

const MAX_DEPTH = 256

/**
 * Throws ValidationError when `value` does not match `type`.
 * @param type - the descriptor
 * @param value - the value to check
 * @param options - model resolver and path prefix
 */
export function validate(type: Type, value: unknown, options: ValidateOptions = {}): void {
  const problem = check(type, value, options.path ?? '', options.resolve, 0)
  if (problem) throw new ValidationError(problem.path, problem.message)
}

/** True when `value` matches `type` (no exception). */
export function isValid(type: Type, value: unknown, resolve?: ModelResolver): boolean {
  return check(type, value, '', resolve, 0) === undefined
}

interface Problem {
  path: string
  message: string
}

/** The problem "expected <what>, got <value>" (a function, not a closure: validation is on every call's path). */
function expected(path: string, value: unknown, what: string): Problem {
  return { path, message: `expected ${what}, got ${describe(value)}` }
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key)

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return 'bytes'
  if (value instanceof Date) return 'a Date'
  if (value instanceof Map) return 'a Map'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${String(value)}`
  return typeof value === 'object' ? 'an object' : String(typeof value)
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function check(
  type: Type,
  value: unknown,
  path: string,
  resolve: ModelResolver | undefined,
  depth: number,
): Problem | undefined {
  if (depth > MAX_DEPTH) return { path, message: `nested more than ${MAX_DEPTH} levels deep` }
  const d = asDescriptor(type)
  switch (d.kind) {
    case 'string':
      return typeof value === 'string' ? undefined : expected(path, value, 'a string')
    case 'bool':
      return typeof value === 'boolean' ? undefined : expected(path, value, 'a boolean')
    case 'float32':
    case 'float64':
      return typeof value === 'number' ? undefined : expected(path, value, 'a number')
    case 'bigint':
      return typeof value === 'bigint' ? undefined : expected(path, value, 'a bigint')
    case 'binary':
      return value instanceof Uint8Array ? undefined : expected(path, value, 'bytes (Uint8Array)')
    case 'timestamp':
      return value instanceof Date && !Number.isNaN(value.getTime())
        ? undefined
        : expected(path, value, 'a valid Date')
    case 'any':
      return undefined
    case 'void':
      return value === undefined || value === null ? undefined : expected(path, value, 'no value')
    case 'literal':
      return value === d.value ? undefined : expected(path, value, JSON.stringify(d.value))
    case 'enum':
      return typeof value === 'string' && d.values.includes(value)
        ? undefined
        : expected(path, value, `one of ${d.values.map((v) => JSON.stringify(v)).join(', ')}`)
    case 'optional':
      return value === undefined || value === null
        ? undefined
        : check(d.inner, value, path, resolve, depth + 1)
    case 'nullable':
      return value === null ? undefined : check(d.inner, value, path, resolve, depth + 1)
    case 'array': {
      if (!Array.isArray(value)) return expected(path, value, 'an array')
      for (let i = 0; i < value.length; i++) {
        const p = check(d.items, value[i], `${path}[${i}]`, resolve, depth + 1)
        if (p) return p
      }
      return undefined
    }
    case 'map': {
      if (!(value instanceof Map)) return expected(path, value, 'a Map')
      for (const [k, v] of value) {
        const kp = `${path}[${String(k)}]`
        const p =
          check(d.key, k, `${kp}(key)`, resolve, depth + 1) ?? check(d.value, v, kp, resolve, depth + 1)
        if (p) return p
      }
      return undefined
    }
    case 'record': {
      if (!isPlainObject(value)) return expected(path, value, 'an object')
      for (const k of Object.keys(value)) {
        const p = check(d.value, value[k], join(path, k), resolve, depth + 1)
        if (p) return p
      }
      return undefined
    }
    case 'union': {
      for (const variant of d.variants) {
        if (check(variant, value, path, resolve, depth + 1) === undefined) return undefined
      }
      return expected(path, value, `one of the ${d.variants.length} variants of the union`)
    }
    case 'object':
    case 'model': {
      if (!isPlainObject(value))
        return expected(path, value, d.kind === 'model' ? `a ${d.name} object` : 'an object')
      for (const name of Object.keys(d.fields)) {
        const ft = d.fields[name] as Type
        const fv = value[name]
        if (fv === undefined && asDescriptor(ft).kind !== 'optional' && asDescriptor(ft).kind !== 'void')
          return { path: join(path, name), message: 'is required but missing' }
        const p = check(ft, fv, join(path, name), resolve, depth + 1)
        if (p) return p
      }
      return undefined
    }
    case 'ref': {
      const model = resolve?.(d.name)
      if (!model) return { path, message: `refers to unknown model '${d.name}'` }
      return check(model, value, path, resolve, depth + 1)
    }
    default: {
      const kind = (d as { kind: string }).kind
      if (isIntKind(kind)) {
        const [min, max] = INT_RANGES[kind]
        if (typeof value !== 'number' || !Number.isInteger(value))
          return expected(path, value, `an integer (${kind})`)
        return value < min || value > max
          ? expected(path, value, `an integer in ${min}..${max} (${kind})`)
          : undefined
      }
      return { path, message: `has a descriptor of unknown kind '${kind}'` }
    }
  }
}
