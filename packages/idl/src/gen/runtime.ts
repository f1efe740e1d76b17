/**
 * Builds the rpc-streams service definition of a spec in-process (no code generation): the same
 * descriptors the generated code builds, so the generator can print the fingerprint into the
 * generated file and `unipc-idl diff` can compare two specs with rpc-streams' own comparison.
 * A test checks that the generated code's runtime fingerprint equals this one.
 * @module
 */
import {
  type CanonicalService,
  canonicalType,
  defineError,
  defineService,
  type Fields,
  type ModelType,
  type ServiceDefinition,
  type ServiceErrorClass,
  type Type,
  t,
} from '@unipc/rpc-streams'
import type { MethodMember, SpecFile, TypeDecl, TypeRef } from '../ast.js'
import type { LoadedSpec } from '../load.js'
import { errorsOf, Scope } from './scope.js'
import { DESCRIPTOR_BUILDER, isRecordKey } from './types.js'

/** The full name of a service on the bus: `namespace.Service` (or just `Service`). */
export function serviceName(file: SpecFile): string {
  const name = file.service?.name ?? 'Service'
  return file.namespace ? `${file.namespace.name}.${name}` : name
}

/** Builds runtime descriptors for one spec and its imports. */
class RuntimeBuilder {
  readonly #named = new Map<TypeDecl, Type>()
  readonly #models = new Map<string, ModelType>()
  readonly #errors = new Map<TypeDecl, ServiceErrorClass>()

  constructor(private readonly scope: Scope) {}

  type(ref: TypeRef): Type {
    switch (ref.kind) {
      case 'primitive':
        return (t as unknown as Record<string, () => Type>)[DESCRIPTOR_BUILDER[ref.name]]!()
      case 'list':
        return t.array(this.type(ref.element))
      case 'optional':
        return t.optional(this.type(ref.inner))
      case 'map':
        return isRecordKey(ref.key, this.scope)
          ? t.record(this.type(ref.value))
          : t.map(this.type(ref.key), this.type(ref.value))
      case 'named': {
        const { decl } = this.scope.resolve(ref.name)
        if (decl.kind === 'model') {
          this.model(decl)
          return t.ref(decl.name)
        }
        return this.decl(decl)
      }
    }
  }

  fields(fields: readonly { name: string; type: TypeRef }[]): Fields {
    const out: Record<string, Type> = {}
    for (const f of fields) out[f.name] = this.type(f.type)
    return out
  }

  model(decl: TypeDecl & { kind: 'model' }): void {
    if (this.#models.has(decl.name)) return
    // Register before building the fields, so recursive models terminate.
    const placeholder: Record<string, Type> = {}
    this.#models.set(decl.name, t.model(decl.name, placeholder))
    this.#models.set(decl.name, t.model(decl.name, this.fields(decl.fields)))
  }

  decl(decl: TypeDecl): Type {
    const known = this.#named.get(decl)
    if (known) return known
    let d: Type
    switch (decl.kind) {
      case 'enum':
        d = t.enum(
          decl.members.map((m) => m.name),
          { name: decl.name },
        )
        break
      case 'union':
        d = t.union(decl.variants.map((v) => t.object({ kind: t.literal(v.name), value: this.type(v.type) })))
        break
      default:
        throw new Error(`${decl.kind} ${decl.name} is not a value type`)
    }
    this.#named.set(decl, d)
    return d
  }

  error(decl: TypeDecl & { kind: 'error' }): ServiceErrorClass {
    let cls = this.#errors.get(decl)
    if (!cls) {
      cls = defineError(decl.name, this.fields(decl.fields))
      this.#errors.set(decl, cls)
    }
    return cls
  }

  method(m: MethodMember) {
    return {
      params: t.object(this.fields(m.params)),
      ...(m.result ? { result: this.type(m.result) } : {}),
      errors: errorsOf(m, this.scope.root).map((e) =>
        this.error(this.scope.resolve(e).decl as TypeDecl & { kind: 'error' }),
      ),
      stream: m.stream,
    }
  }

  get models(): ModelType[] {
    return [...this.#models.values()]
  }
}

/**
 * The rpc-streams definition of a loaded spec (its methods; commands, events, settings and status
 * are bus facilities outside the rpc-streams definition).
 * @param spec - a spec without errors
 */
export function serviceDefinition(spec: LoadedSpec): ServiceDefinition {
  const scope = Scope.of(spec)
  const b = new RuntimeBuilder(scope)
  // Every model of the spec and its imports belongs to the service (the generated code lists the
  // same set), so refs from events, settings and status resolve too.
  for (const r of scope.all()) if (r.decl.kind === 'model') b.model(r.decl)
  const methods: Record<string, ReturnType<RuntimeBuilder['method']>> = {}
  for (const m of spec.root.members) if (m.kind === 'method') methods[m.name] = b.method(m)
  return defineService({
    name: serviceName(spec.root),
    version: String(spec.root.version?.value ?? 1),
    methods,
    models: b.models,
  })
}

/**
 * The whole contract of a spec in rpc-streams' canonical form, for `unipc-idl diff`: the methods,
 * plus every other member as a synthetic method so that rpc-streams' own comparison judges it
 * with the same rules: a command is a method the client calls (`command <name>`), an event a
 * stream the service writes (`event <name>`), a setting a value both sides write and read
 * (`setting <name>`: params and result), a status a value the service writes (`status <name>`).
 */
export function contractOf(spec: LoadedSpec): CanonicalService {
  const def = serviceDefinition(spec)
  const b = new RuntimeBuilder(Scope.of(spec))
  const methods = { ...def.canonical.methods }
  const obj = (params: readonly { name: string; type: TypeRef }[]) =>
    canonicalType(t.object(b.fields(params)))
  const empty = canonicalType(t.object({}))
  for (const m of spec.root.members) {
    switch (m.kind) {
      case 'command':
        methods[`command ${m.name}`] = { params: obj(m.params), result: 'void', errors: [], stream: false }
        break
      case 'event':
        methods[`event ${m.name}`] = { params: empty, result: obj(m.params), errors: [], stream: true }
        break
      case 'setting': {
        const v = canonicalType(b.type(m.type))
        methods[`setting ${m.name}`] = {
          params: { object: { value: v } },
          result: v,
          errors: [],
          stream: false,
        }
        break
      }
      case 'status':
        methods[`status ${m.name}`] = {
          params: empty,
          result: canonicalType(b.type(m.type)),
          errors: [],
          stream: true,
        }
        break
    }
  }
  return { ...def.canonical, methods }
}
