/**
 * Service definitions: a name, a version and methods with parameter, result and error types. One
 * definition object is shared by the server (`serve`) and the client (`createClient`); the IDL
 * generator emits the same object from a `.unipc` file.
 * @module
 */
import { assertName, InvalidArgumentError } from '@unipc/core'
import { isServiceErrorClass, type ServiceErrorClass } from './errors.js'
import { type CanonicalService, canonicalService, fingerprintOf } from './types/canonical.js'
import {
  asDescriptor,
  type Infer,
  type ModelType,
  type ObjectType,
  type Type,
  t,
  type VoidType,
} from './types/descriptors.js'
import type { ModelResolver } from './types/validate.js'

/** One method as written in a definition. */
export interface MethodSpec {
  /** The parameters: an object (or model) whose fields are the named parameters. Default: none. */
  readonly params?: ObjectType | ModelType
  /** The result type, or the item type of a streaming method. Default: `t.void()`. */
  readonly result?: Type
  /** Declared errors the method may throw; they arrive on the client as the same classes. */
  // biome-ignore lint/suspicious/noExplicitAny: error classes of any fields (their constructors are contravariant)
  readonly errors?: readonly ServiceErrorClass<any>[]
  /** True for a server-streaming method: the client gets an Observable of `result` items. */
  readonly stream?: boolean
  /** Free text for generated docs. */
  readonly doc?: string
}

/** Methods of a definition, by method name. */
export type MethodSpecs = { readonly [name: string]: MethodSpec }

/** What {@link defineService} takes. */
export interface ServiceSpec<M extends MethodSpecs> {
  /** The service name, e.g. `school.Students` (a valid unipc method-name prefix: no spaces, `/`, `*`, `>`). */
  readonly name: string
  /** A version label, e.g. `1.2.0`; informational (the fingerprint, not the version, decides compatibility). */
  readonly version?: string
  /** The methods. Names are identifiers; names starting with `_` are reserved. */
  readonly methods: M
  /** Models referenced by name with `t.ref` (models used directly are found automatically). */
  // biome-ignore lint/suspicious/noExplicitAny: models of any fields and static type
  readonly models?: readonly ModelType<any, any>[]
  /** Free text for generated docs. */
  readonly doc?: string
}

/** A method after normalisation: every part present. */
export interface MethodDefinition {
  readonly name: string
  readonly params: ObjectType | ModelType
  readonly result: Type
  readonly errors: ReadonlyMap<string, ServiceErrorClass>
  readonly stream: boolean
  readonly doc: string | undefined
}

/** A checked, normalised service definition with its canonical form and fingerprint. */
export interface ServiceDefinition<M extends MethodSpecs = MethodSpecs> {
  readonly name: string
  readonly version: string
  readonly doc: string | undefined
  /** The methods as written (carries the static types). */
  readonly spec: M
  /** The methods, normalised. */
  readonly methods: ReadonlyMap<string, MethodDefinition>
  /** Every model of the service, by name. */
  readonly models: ReadonlyMap<string, ModelType>
  /** Every declared error of the service, by name. */
  readonly errors: ReadonlyMap<string, ServiceErrorClass>
  /** Resolves `t.ref(name)` through {@link ServiceDefinition.models}. */
  readonly resolve: ModelResolver
  /** The canonical form (what the fingerprint hashes and the schema check exchanges). */
  readonly canonical: CanonicalService
  /** `sha256:<hex>` of the canonical form. */
  readonly fingerprint: string
}

/** The parameters object of a method spec. */
export type ParamsOf<S extends MethodSpec> = S['params'] extends Type
  ? Infer<S['params']>
  : Record<string, never>
/** The result (or stream item) of a method spec; `void` for methods without a result. */
// biome-ignore lint/suspicious/noConfusingVoidType: a method without a result returns Promise<void>
export type ResultOf<S extends MethodSpec> = S['result'] extends Type ? Infer<S['result']> : void

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/

/**
 * Checks and normalises a service definition.
 * @param spec - name, version, methods and (for `t.ref`) models
 * @throws InvalidArgumentError for bad names, duplicate or unknown models, and non-error classes in `errors`
 * @example
 * const Students = defineService({
 *   name: 'school.Students', version: '1.0.0',
 *   methods: {
 *     get: { params: t.object({ id: t.string() }), result: Student, errors: [StudentNotFound] },
 *     list: { params: t.object({ limit: t.optional(t.uint32()) }), result: Student, stream: true },
 *   },
 * })
 */
export function defineService<const M extends MethodSpecs>(spec: ServiceSpec<M>): ServiceDefinition<M> {
  assertName('service', spec.name)
  const models = new Map<string, ModelType>()
  const addModel = (m: ModelType): void => {
    const seen = models.get(m.name)
    if (seen && seen !== m)
      throw new InvalidArgumentError(`service ${spec.name}: two different models are named '${m.name}'`)
    if (!seen) {
      models.set(m.name, m)
      for (const f of Object.values(m.fields)) collectModels(f, addModel)
    }
  }
  for (const m of spec.models ?? []) addModel(m)
  const errors = new Map<string, ServiceErrorClass>()
  const methods = new Map<string, MethodDefinition>()
  for (const [name, m] of Object.entries(spec.methods)) {
    if (!METHOD_NAME.test(name))
      throw new InvalidArgumentError(
        `service ${spec.name}: method name '${name}' must be an identifier not starting with '_'`,
      )
    const params = m.params ?? t.object({})
    if (params.kind !== 'object' && params.kind !== 'model')
      throw new InvalidArgumentError(`service ${spec.name}: ${name}.params must be t.object(…) or a model`)
    const result: Type = m.result ?? (t.void() as VoidType)
    collectModels(params, addModel)
    collectModels(result, addModel)
    const methodErrors = new Map<string, ServiceErrorClass>()
    for (const e of m.errors ?? []) {
      if (!isServiceErrorClass(e))
        throw new InvalidArgumentError(
          `service ${spec.name}: ${name}.errors must be classes from defineError`,
        )
      const other = errors.get(e.errorName)
      if (other && other !== e)
        throw new InvalidArgumentError(
          `service ${spec.name}: two different errors are named '${e.errorName}'`,
        )
      errors.set(e.errorName, e)
      methodErrors.set(e.errorName, e)
      collectModels(e.fields, addModel)
    }
    methods.set(name, { name, params, result, errors: methodErrors, stream: m.stream === true, doc: m.doc })
  }
  const resolve: ModelResolver = (n) => models.get(n)
  const def = {
    name: spec.name,
    version: spec.version ?? '0.0.0',
    doc: spec.doc,
    spec: spec.methods,
    methods,
    models,
    errors,
    resolve,
  }
  checkRefs(def)
  const canonical = canonicalService(def)
  return Object.freeze({ ...def, canonical, fingerprint: fingerprintOf(canonical) })
}

/** Calls `add` for every model used directly inside `type` (refs are resolved later, by name). */
function collectModels(type: Type, add: (m: ModelType) => void): void {
  const d = asDescriptor(type)
  if (d.kind === 'model') add(d)
  else collectChildren(d, (c) => collectModels(c, add))
}

/** Every `t.ref(name)` must name a model of the service. */
function checkRefs(def: {
  name: string
  methods: Map<string, MethodDefinition>
  models: Map<string, ModelType>
}): void {
  const visit = (type: Type, where: string): void => {
    const d = asDescriptor(type)
    if (d.kind === 'ref') {
      if (!def.models.has(d.name))
        throw new InvalidArgumentError(
          `service ${def.name}: ${where} refers to model '${d.name}', which is not in the service (add it to models)`,
        )
      return
    }
    collectChildren(d, (c) => visit(c, where))
  }
  for (const m of def.methods.values()) {
    visit(m.params, `${m.name}.params`)
    visit(m.result, `${m.name}.result`)
    for (const e of m.errors.values()) visit(e.fields, `error ${e.errorName}`)
  }
  for (const m of def.models.values()) for (const f of Object.values(m.fields)) visit(f, `model ${m.name}`)
}

/** Calls `each` for the direct child descriptors of `type` (not into models). */
export function collectChildren(type: Type, each: (child: Type) => void): void {
  const d = asDescriptor(type)
  switch (d.kind) {
    case 'object':
      for (const f of Object.values(d.fields)) each(f)
      return
    case 'optional':
    case 'nullable':
      each(d.inner)
      return
    case 'array':
      each(d.items)
      return
    case 'map':
      each(d.key)
      each(d.value)
      return
    case 'record':
      each(d.value)
      return
    case 'union':
      for (const v of d.variants) each(v)
      return
  }
}
