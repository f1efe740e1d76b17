/**
 * Checks values against type descriptors. Validation never copies or changes the value; the first
 * problem found is thrown as a ValidationError whose `path` names the field (`params.info.tags[2]`).
 * Unknown object fields are allowed (a newer peer may send them), so added fields stay compatible.
 * Validation runs on every call, so the valid path allocates nothing: the field path is only built
 * when a problem is found, from the segments collected while unwinding.
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

/** Deepest nesting checked (deeper values fail, so a hostile value cannot exhaust the stack). */
export const MAX_DEPTH = 256

/**
 * Throws ValidationError when `value` does not match `type`.
 * @param type - the descriptor
 * @param value - the value to check
 * @param options - model resolver and path prefix
 */
export function validate(type: Type, value: unknown, options: ValidateOptions = {}): void {
  const problem = check(type, value, options.resolve, 0)
  if (problem) throw new ValidationError(pathOf(options.path ?? '', problem.segments), problem.message)
}

/** True when `value` matches `type` (no exception). */
export function isValid(type: Type, value: unknown, resolve?: ModelResolver): boolean {
  return check(type, value, resolve, 0) === undefined
}

/** A problem and where it is: path segments innermost first (`.name`, `[3]`). */
interface Problem {
  segments: string[]
  message: string
}

function pathOf(prefix: string, segments: readonly string[]): string {
  let path = prefix
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] as string
    path += path === '' && s.startsWith('.') ? s.slice(1) : s
  }
  return path
}

/** Adds a segment to a problem found below (returns it for chaining). */
function at(problem: Problem, segment: string): Problem {
  problem.segments.push(segment)
  return problem
}

/** The problem "expected <what>, got <value>". */
function expected(value: unknown, what: string): Problem {
  return { segments: [], message: `expected ${what}, got ${describe(value)}` }
}

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
  resolve: ModelResolver | undefined,
  depth: number,
): Problem | undefined {
  if (depth > MAX_DEPTH) return { segments: [], message: `nested more than ${MAX_DEPTH} levels deep` }
  const d = asDescriptor(type)
  switch (d.kind) {
    case 'string':
      return typeof value === 'string' ? undefined : expected(value, 'a string')
    case 'bool':
      return typeof value === 'boolean' ? undefined : expected(value, 'a boolean')
    case 'float32':
    case 'float64':
      return typeof value === 'number' ? undefined : expected(value, 'a number')
    case 'bigint':
      return typeof value === 'bigint' ? undefined : expected(value, 'a bigint')
    case 'binary':
      return value instanceof Uint8Array ? undefined : expected(value, 'bytes (Uint8Array)')
    case 'timestamp':
      return value instanceof Date && !Number.isNaN(value.getTime())
        ? undefined
        : expected(value, 'a valid Date')
    case 'any':
      return undefined
    case 'void':
      return value === undefined || value === null ? undefined : expected(value, 'no value')
    case 'literal':
      return value === d.value ? undefined : expected(value, JSON.stringify(d.value))
    case 'enum':
      return typeof value === 'string' && d.values.includes(value)
        ? undefined
        : expected(value, `one of ${d.values.map((v) => JSON.stringify(v)).join(', ')}`)
    case 'optional':
      return value === undefined || value === null ? undefined : check(d.inner, value, resolve, depth + 1)
    case 'nullable':
      return value === null ? undefined : check(d.inner, value, resolve, depth + 1)
    case 'array': {
      if (!Array.isArray(value)) return expected(value, 'an array')
      for (let i = 0; i < value.length; i++) {
        const p = check(d.items, value[i], resolve, depth + 1)
        if (p) return at(p, `[${i}]`)
      }
      return undefined
    }
    case 'map': {
      if (!(value instanceof Map)) return expected(value, 'a Map')
      for (const [k, v] of value) {
        const kp = check(d.key, k, resolve, depth + 1)
        if (kp) return at(kp, `[${String(k)}](key)`)
        const vp = check(d.value, v, resolve, depth + 1)
        if (vp) return at(vp, `[${String(k)}]`)
      }
      return undefined
    }
    case 'record': {
      if (!isPlainObject(value)) return expected(value, 'an object')
      for (const k in value) {
        const p = check(d.value, value[k], resolve, depth + 1)
        if (p) return at(p, `.${k}`)
      }
      return undefined
    }
    case 'union': {
      for (const variant of d.variants) {
        if (check(variant, value, resolve, depth + 1) === undefined) return undefined
      }
      return expected(value, `one of the ${d.variants.length} variants of the union`)
    }
    case 'object':
    case 'model': {
      if (!isPlainObject(value))
        return expected(value, d.kind === 'model' ? `a ${d.name} object` : 'an object')
      const fields = d.fields
      for (const name in fields) {
        const ft = fields[name] as Type
        const fv = value[name]
        if (fv === undefined) {
          const kind = asDescriptor(ft).kind
          if (kind !== 'optional' && kind !== 'void' && kind !== 'any')
            return { segments: [`.${name}`], message: 'is required but missing' }
          continue
        }
        const p = check(ft, fv, resolve, depth + 1)
        if (p) return at(p, `.${name}`)
      }
      return undefined
    }
    case 'ref': {
      const model = resolve?.(d.name)
      if (!model) return { segments: [], message: `refers to unknown model '${d.name}'` }
      return check(model, value, resolve, depth + 1)
    }
    default: {
      const kind = (d as { kind: string }).kind
      if (isIntKind(kind)) {
        const [min, max] = INT_RANGES[kind]
        if (typeof value !== 'number' || !Number.isInteger(value))
          return expected(value, `an integer (${kind})`)
        return value < min || value > max
          ? expected(value, `an integer in ${min}..${max} (${kind})`)
          : undefined
      }
      return { segments: [], message: `has a descriptor of unknown kind '${kind}'` }
    }
  }
}
