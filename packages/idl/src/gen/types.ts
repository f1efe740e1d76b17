/**
 * How spec types map to TypeScript: the static type text and the runtime descriptor expression
 * (`t.*` builders of @unipc/rpc-streams) of every {@link TypeRef}.
 *
 * | spec | TypeScript | descriptor |
 * |---|---|---|
 * | bool | boolean | t.bool() |
 * | int8..uint64, float32, float64 | number | t.int8() … t.float64() |
 * | string / binary / timestamp | string / Uint8Array / Date | t.string() / t.binary() / t.timestamp() |
 * | duration | number (milliseconds) | t.float64() |
 * | T[] | T[] | t.array(T) |
 * | map<string or enum, V> | Record<string, V> | t.record(V) |
 * | map<integer, V> | Map<number, V> | t.map(K, V) |
 * | T? | T \| undefined (optional property in models) | t.optional(T) |
 * | model M | M | t.ref<M>('M') (resolved through the service's models; allows recursion) |
 * | enum / union E | E | the generated descriptor constant E |
 * @module
 */
import type { PrimitiveName, TypeRef } from '../ast.js'
import type { GeneratedFile } from './generated-file.js'
import { moduleName, type Scope } from './scope.js'

/** The package generated code imports its runtime from. */
export const RPC = '@unipc/rpc-streams'
/** The runtime helpers generated code imports. */
export const RUNTIME = '@unipc/idl/runtime'
/** The core package. */
export const CORE = '@unipc/core'

const TS_PRIMITIVE: Record<PrimitiveName, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  int32: 'number',
  int64: 'number',
  uint8: 'number',
  uint16: 'number',
  uint32: 'number',
  uint64: 'number',
  float32: 'number',
  float64: 'number',
  string: 'string',
  binary: 'Uint8Array',
  timestamp: 'Date',
  duration: 'number',
}

/** The `t.*` builder of each primitive. */
export const DESCRIPTOR_BUILDER: Record<PrimitiveName, string> = {
  bool: 'bool',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  float32: 'float32',
  float64: 'float64',
  string: 'string',
  binary: 'binary',
  timestamp: 'timestamp',
  duration: 'float64',
}

/** True when a map with this key type travels as a plain object (string and enum keys). */
export function isRecordKey(key: TypeRef, scope: Scope): boolean {
  if (key.kind === 'primitive') return key.name === 'string'
  return key.kind === 'named' && scope.resolve(key.name).decl.kind === 'enum'
}

/** Writes TypeScript for spec types into one generated file (importing what they refer to). */
export class TypeWriter {
  constructor(
    private readonly file: GeneratedFile,
    private readonly scope: Scope,
  ) {}

  /** The local name of a declaration, importing it from its module when it lives elsewhere. */
  named(name: string, typeOnly: boolean): string {
    const r = this.scope.resolve(name)
    if (this.scope.isLocal(r)) return r.decl.name
    return this.file.use(r.decl.name, `./${moduleName(r.file)}.js`, typeOnly)
  }

  /** The static TypeScript type of `t`. */
  ts(t: TypeRef): string {
    switch (t.kind) {
      case 'primitive':
        return TS_PRIMITIVE[t.name]
      case 'named':
        return this.named(t.name, true)
      case 'list': {
        const inner = this.ts(t.element)
        return t.element.kind === 'optional' ? `(${inner})[]` : `${inner}[]`
      }
      case 'map':
        return isRecordKey(t.key, this.scope)
          ? `Record<string, ${this.ts(t.value)}>`
          : `Map<${this.ts(t.key)}, ${this.ts(t.value)}>`
      case 'optional':
        return `${this.ts(t.inner)} | undefined`
    }
  }

  /** The runtime descriptor expression of `t`. */
  descriptor(t: TypeRef): string {
    const b = this.file.use('t', RPC)
    switch (t.kind) {
      case 'primitive':
        return `${b}.${DESCRIPTOR_BUILDER[t.name]}()`
      case 'named': {
        const r = this.scope.resolve(t.name)
        if (r.decl.kind === 'model') return `${b}.ref<${this.named(t.name, true)}>('${r.decl.name}')`
        return this.named(t.name, false)
      }
      case 'list':
        return `${b}.array(${this.descriptor(t.element)})`
      case 'map':
        return isRecordKey(t.key, this.scope)
          ? `${b}.record(${this.descriptor(t.value)})`
          : `${b}.map(${this.descriptor(t.key)}, ${this.descriptor(t.value)})`
      case 'optional':
        return `${b}.optional(${this.descriptor(t.inner)})`
    }
  }
}
