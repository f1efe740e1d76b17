/**
 * The canonical form of a service: plain JSON that says exactly what goes over the wire, with no
 * docs, no version label and models referenced by name. Its `sha256` is the service fingerprint,
 * and client and server exchange it for the schema check.
 *
 * Type forms: a primitive is its kind as a string (`"string"`, `"uint8"`, `"binary"` …); composites are
 * one-key objects: `{"optional":T}`, `{"nullable":T}`, `{"array":T}`, `{"map":[K,V]}`, `{"record":V}`,
 * `{"enum":["a","b"]}` (sorted), `{"literal":v}`, `{"union":[T…]}` (in order), `{"object":{"field":T…}}`,
 * `{"ref":"Model"}` (models, whether used directly or through `t.ref`).
 * @module
 */
import { createHash } from 'node:crypto'
import type { ServiceErrorClass } from '../errors.js'
import { asDescriptor, type ModelType, type ObjectType, type Type } from './descriptors.js'

/** A type in canonical form. */
export type CanonicalType =
  | string
  | { optional: CanonicalType }
  | { nullable: CanonicalType }
  | { array: CanonicalType }
  | { map: [CanonicalType, CanonicalType] }
  | { record: CanonicalType }
  | { enum: string[] }
  | { literal: string | number | boolean }
  | { union: CanonicalType[] }
  | { object: Record<string, CanonicalType> }
  | { ref: string }

/** A method in canonical form. */
export interface CanonicalMethod {
  params: CanonicalType
  result: CanonicalType
  /** Names of the declared errors, sorted. */
  errors: string[]
  stream: boolean
}

/** A service in canonical form. */
export interface CanonicalService {
  /** Version of this canonical format. */
  format: 1
  name: string
  methods: Record<string, CanonicalMethod>
  /** Models by name: `{"object":{…}}`. */
  models: Record<string, CanonicalType>
  /** Declared errors by name: their fields as `{"object":{…}}`. */
  errors: Record<string, CanonicalType>
}

/** The canonical form of a type descriptor. */
export function canonicalType(type: Type): CanonicalType {
  const d = asDescriptor(type)
  switch (d.kind) {
    case 'optional':
      return { optional: canonicalType(d.inner) }
    case 'nullable':
      return { nullable: canonicalType(d.inner) }
    case 'array':
      return { array: canonicalType(d.items) }
    case 'map':
      return { map: [canonicalType(d.key), canonicalType(d.value)] }
    case 'record':
      return { record: canonicalType(d.value) }
    case 'enum':
      return { enum: [...d.values].sort() }
    case 'literal':
      return { literal: d.value }
    case 'union':
      return { union: d.variants.map(canonicalType) }
    case 'object':
      return canonicalFields(d)
    case 'model':
    case 'ref':
      return { ref: d.name }
    default:
      return d.kind
  }
}

function canonicalFields(d: ObjectType | ModelType): { object: Record<string, CanonicalType> } {
  const object: Record<string, CanonicalType> = {}
  for (const name of Object.keys(d.fields).sort()) object[name] = canonicalType(d.fields[name] as Type)
  return { object }
}

/** The parts of a definition the canonical form is made from. */
export interface CanonicalSource {
  readonly name: string
  readonly methods: ReadonlyMap<
    string,
    {
      readonly params: Type
      readonly result: Type
      readonly errors: ReadonlyMap<string, ServiceErrorClass>
      readonly stream: boolean
    }
  >
  readonly models: ReadonlyMap<string, ModelType>
  readonly errors: ReadonlyMap<string, ServiceErrorClass>
}

/** The canonical form of a service definition. */
export function canonicalService(def: CanonicalSource): CanonicalService {
  const methods: Record<string, CanonicalMethod> = {}
  for (const name of [...def.methods.keys()].sort()) {
    const m = def.methods.get(name)!
    methods[name] = {
      params: canonicalType(m.params),
      result: canonicalType(m.result),
      errors: [...m.errors.keys()].sort(),
      stream: m.stream,
    }
  }
  const models: Record<string, CanonicalType> = {}
  for (const name of [...def.models.keys()].sort()) models[name] = canonicalFields(def.models.get(name)!)
  const errors: Record<string, CanonicalType> = {}
  for (const name of [...def.errors.keys()].sort())
    errors[name] = canonicalFields(def.errors.get(name)!.fields)
  return { format: 1, name: def.name, methods, models, errors }
}

/** JSON with object keys sorted at every level: the byte-exact text the fingerprint hashes. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** `sha256:<hex>` of the stable JSON text of a canonical service. */
export function fingerprintOf(canonical: CanonicalService): string {
  return `sha256:${createHash('sha256').update(stableStringify(canonical)).digest('hex')}`
}
