/**
 * Declared service errors. `defineError` makes an error class with typed fields; a handler throws
 * it, the fields travel with it, and the client re-creates an instance of the same class.
 * @module
 */
import { InvalidArgumentError, UnipcError } from '@unipc/core'
import { type Fields, type InferFields, type ObjectType, t } from './types/descriptors.js'

/** Field names an error cannot declare: they are Error's own properties or carry the fields. */
export const RESERVED_ERROR_FIELDS: readonly string[] = ['name', 'message', 'code', 'stack', 'cause', 'data']

/**
 * Base class of declared service errors. Fields are own properties of the instance; `data` returns
 * them as one object, which is how the core sends them to the caller.
 */
export class ServiceError extends UnipcError {
  /** True when this instance was re-created from an error that a remote server threw. */
  declare remote: boolean

  /** The declared fields with their values, as sent to the caller. */
  get data(): Record<string, unknown> {
    const fields = (this.constructor as ServiceErrorClass).fields?.fields ?? {}
    const out: Record<string, unknown> = {}
    for (const name of Object.keys(fields)) {
      const v = (this as unknown as Record<string, unknown>)[name]
      if (v !== undefined) out[name] = v
    }
    return out
  }
}
Object.defineProperty(ServiceError.prototype, 'remote', { enumerable: false, writable: true, value: false })

/** Options of {@link defineError}. */
export interface DefineErrorOptions<F extends Fields> {
  /** The stable `code` (default: the error's name). */
  readonly code?: string
  /** The default message, or a function of the fields (default: the name and fields). */
  readonly message?: string | ((fields: InferFields<F>) => string)
  /** Free text for generated docs. */
  readonly doc?: string
}

/** What an error class made by {@link defineError} looks like. */
export interface ServiceErrorClass<F extends Fields = Fields> {
  /** Constructs the error; `message` overrides the default message. */
  new (
    ...args: {} extends InferFields<F>
      ? [fields?: InferFields<F>, message?: string]
      : [fields: InferFields<F>, message?: string]
  ): ServiceError & InferFields<F>
  /** The error's name on the wire (also `instance.name`). */
  readonly errorName: string
  /** The error's fields as an object descriptor. */
  readonly fields: ObjectType<F>
  /** The error's stable code. */
  readonly errorCode: string
  /** Free text for generated docs. */
  readonly doc?: string
}

/**
 * Defines a declared error class.
 * @param name - the error's name on the wire, e.g. `StudentNotFound`
 * @param fields - its fields, e.g. `{ id: t.string() }` (not `name`, `message`, `code`, `stack`, `cause`, `data`)
 * @example
 * const StudentNotFound = defineError('StudentNotFound', { id: t.string() }, { message: (f) => `no student ${f.id}` })
 * throw new StudentNotFound({ id: '42' })
 */
export function defineError<const F extends Fields = {}>(
  name: string,
  fields: F = {} as F,
  options: DefineErrorOptions<F> = {},
): ServiceErrorClass<F> {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name))
    throw new InvalidArgumentError(`error name '${name}' must be an identifier`)
  for (const f of Object.keys(fields)) {
    if (RESERVED_ERROR_FIELDS.includes(f))
      throw new InvalidArgumentError(`error ${name} cannot declare a field named '${f}'`)
  }
  const descriptor = t.object(fields)
  const code = options.code ?? name
  const makeMessage = (values: Record<string, unknown>): string => {
    if (typeof options.message === 'function') return options.message(values as InferFields<F>)
    if (typeof options.message === 'string') return options.message
    const keys = Object.keys(values)
    return keys.length === 0 ? name : `${name}: ${keys.map((k) => `${k}=${String(values[k])}`).join(', ')}`
  }
  const cls = class extends ServiceError {
    static readonly errorName = name
    static readonly fields = descriptor
    static readonly errorCode = code
    static readonly doc = options.doc
    constructor(values?: Record<string, unknown>, message?: string) {
      const v = values ?? {}
      super(message ?? makeMessage(v), code)
      this.name = name
      for (const f of Object.keys(fields)) {
        if (v[f] !== undefined) (this as unknown as Record<string, unknown>)[f] = v[f]
      }
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls as unknown as ServiceErrorClass<F>
}

/** True when `value` is an error class made by {@link defineError}. */
export function isServiceErrorClass(value: unknown): value is ServiceErrorClass {
  return (
    typeof value === 'function' &&
    value.prototype instanceof ServiceError &&
    typeof (value as { errorName?: unknown }).errorName === 'string'
  )
}
