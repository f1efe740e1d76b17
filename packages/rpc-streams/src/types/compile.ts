/**
 * Validators compiled once per descriptor: a tree of small closures that answer "valid?" without
 * walking the descriptor's `kind` switch on every call. Clients and servers validate every call's
 * parameters and results, so this is on the hot path. A compiled check accepts exactly what
 * {@link validate} accepts (the tests hold the two side by side); on a rejection the interpreter runs once more to build the same
 * ValidationError (field path and message), so failures read the same either way.
 * @module
 */
import { asDescriptor, INT_RANGES, isIntKind, type Type } from './descriptors.js'
import { MAX_DEPTH, type ModelResolver, validate } from './validate.js'

/** "Is `value` valid at nesting `depth`?" (depth counts like the interpreter's, for the same limit). */
type Check = (value: unknown, depth: number) => boolean

/** Throws ValidationError when a value does not match the compiled type. */
export type Validator = (value: unknown) => void

/**
 * Compiles `type` into a validator.
 * @param type - the descriptor
 * @param resolve - resolves `t.ref(name)` (refs are compiled on first use, so recursive models work)
 * @param path - path prefix of errors, e.g. `params`
 */
export function compileValidator(type: Type, resolve: ModelResolver | undefined, path: string): Validator {
  const ok = new Compiler(resolve).compile(type)
  const options = { resolve, path }
  return (value) => {
    // The interpreter rebuilds the error (path, message).
    if (!ok(value, 0)) validate(type, value, options)
  }
}

/**
 * Compiles `type` into a predicate: the compiled form of `isValid`.
 * @param type - the descriptor
 * @param resolve - resolves `t.ref(name)`
 */
export function compileIsValid(type: Type, resolve?: ModelResolver): (value: unknown) => boolean {
  const ok = new Compiler(resolve).compile(type)
  return (value) => ok(value, 0)
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

const never: Check = () => false

class Compiler {
  readonly #done = new Map<Type, Check>()
  readonly #models = new Map<string, Check>()

  constructor(private readonly resolve: ModelResolver | undefined) {}

  compile(type: Type): Check {
    let c = this.#done.get(type)
    if (!c) {
      c = this.#build(type)
      this.#done.set(type, c)
    }
    return c
  }

  /** A ref compiles its model when first checked (a model may refer to itself). */
  #ref(name: string): Check {
    return (v, depth) => {
      let c = this.#models.get(name)
      if (!c) {
        const model = this.resolve?.(name)
        c = model ? this.compile(model) : never
        this.#models.set(name, c)
      }
      return depth <= MAX_DEPTH && c(v, depth + 1)
    }
  }

  #build(type: Type): Check {
    const d = asDescriptor(type)
    switch (d.kind) {
      case 'string':
        return (v, depth) => depth <= MAX_DEPTH && typeof v === 'string'
      case 'bool':
        return (v, depth) => depth <= MAX_DEPTH && typeof v === 'boolean'
      case 'float32':
      case 'float64':
        return (v, depth) => depth <= MAX_DEPTH && typeof v === 'number'
      case 'bigint':
        return (v, depth) => depth <= MAX_DEPTH && typeof v === 'bigint'
      case 'binary':
        return (v, depth) => depth <= MAX_DEPTH && v instanceof Uint8Array
      case 'timestamp':
        return (v, depth) => depth <= MAX_DEPTH && v instanceof Date && !Number.isNaN(v.getTime())
      case 'any':
        return (_v, depth) => depth <= MAX_DEPTH
      case 'void':
        return (v, depth) => depth <= MAX_DEPTH && (v === undefined || v === null)
      case 'literal': {
        const value = d.value
        return (v, depth) => depth <= MAX_DEPTH && v === value
      }
      case 'enum': {
        const values = new Set<unknown>(d.values)
        return (v, depth) => depth <= MAX_DEPTH && typeof v === 'string' && values.has(v)
      }
      case 'optional': {
        const inner = this.compile(d.inner)
        return (v, depth) => depth <= MAX_DEPTH && (v === undefined || v === null || inner(v, depth + 1))
      }
      case 'nullable': {
        const inner = this.compile(d.inner)
        return (v, depth) => depth <= MAX_DEPTH && (v === null || inner(v, depth + 1))
      }
      case 'array': {
        const items = this.compile(d.items)
        return (v, depth) => {
          if (depth > MAX_DEPTH || !Array.isArray(v)) return false
          for (let i = 0; i < v.length; i++) if (!items(v[i], depth + 1)) return false
          return true
        }
      }
      case 'map': {
        const key = this.compile(d.key)
        const value = this.compile(d.value)
        return (v, depth) => {
          if (depth > MAX_DEPTH || !(v instanceof Map)) return false
          for (const [k, x] of v) if (!key(k, depth + 1) || !value(x, depth + 1)) return false
          return true
        }
      }
      case 'record': {
        const value = this.compile(d.value)
        return (v, depth) => {
          if (depth > MAX_DEPTH || !isPlainObject(v)) return false
          for (const k in v) if (!value(v[k], depth + 1)) return false
          return true
        }
      }
      case 'union': {
        const variants = d.variants.map((x) => this.compile(x))
        return (v, depth) => {
          if (depth > MAX_DEPTH) return false
          for (const variant of variants) if (variant(v, depth + 1)) return true
          return false
        }
      }
      case 'object':
      case 'model': {
        const names = Object.keys(d.fields)
        const checks = names.map((n) => this.compile(d.fields[n] as Type))
        const required = names.map((n) => {
          const kind = asDescriptor(d.fields[n] as Type).kind
          return kind !== 'optional' && kind !== 'void' && kind !== 'any'
        })
        return (v, depth) => {
          if (depth > MAX_DEPTH || !isPlainObject(v)) return false
          for (let i = 0; i < names.length; i++) {
            const fv = v[names[i] as string]
            if (fv === undefined) {
              if (required[i]) return false
            } else if (!(checks[i] as Check)(fv, depth + 1)) return false
          }
          return true
        }
      }
      case 'ref':
        return this.#ref(d.name)
      default: {
        const kind = (d as { kind: string }).kind
        if (!isIntKind(kind)) return never
        const [min, max] = INT_RANGES[kind]
        return (v, depth) =>
          depth <= MAX_DEPTH && typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      }
    }
  }
}
