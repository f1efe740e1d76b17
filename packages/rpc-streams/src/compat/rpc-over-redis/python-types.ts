/**
 * rpc-over-redis describes argument types by Python type name (`<module>/<name>`, e.g.
 * `builtins/int`). These map unipc descriptors to those names, build the `_rpc_schema_` answer and
 * compare a server's answer with a client's definition.
 * @module
 */
import type { SchemaDifference } from '../../schema/compare.js'
import type { MethodDefinition, ServiceDefinition } from '../../service.js'
import { asDescriptor, isIntKind, type Type } from '../../types/descriptors.js'

/** The `_rpc_schema_` answer. */
export interface RpcSchema {
  force_strict_validate_schema: boolean
  /** Per method: argument name -> type name, plus `return`. */
  types: Record<string, Record<string, string>>
}

/** The Python type name a value of `type` has on the Python side. */
export function pythonTypeName(type: Type): string {
  const d = asDescriptor(type)
  switch (d.kind) {
    case 'string':
    case 'enum':
      return 'builtins/str'
    case 'bool':
      return 'builtins/bool'
    case 'float32':
    case 'float64':
      return 'builtins/float'
    case 'bigint':
      return 'builtins/int'
    case 'binary':
      return 'builtins/bytes'
    case 'timestamp':
      return 'datetime/datetime'
    case 'void':
      return 'builtins/NoneType'
    case 'any':
      return 'typing/Any'
    case 'array':
      return 'builtins/list'
    case 'map':
    case 'record':
    case 'object':
    case 'model':
    case 'ref':
      return 'builtins/dict'
    case 'literal':
      return typeof d.value === 'string'
        ? 'builtins/str'
        : typeof d.value === 'boolean'
          ? 'builtins/bool'
          : 'builtins/float'
    case 'optional':
    case 'nullable':
    case 'union':
      // `int | None` and other unions are types.UnionType in Python 3.10+.
      return 'types/UnionType'
    default:
      return isIntKind(d.kind) ? 'builtins/int' : 'typing/Any'
  }
}

/** Argument names -> type names (and `return`) of one method. */
export function methodTypes(m: MethodDefinition): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, t] of Object.entries(paramFields(m))) out[name] = pythonTypeName(t)
  out.return = pythonTypeName(m.result)
  return out
}

/** The parameter fields of a method in declaration order (the positional order of `args`). */
export function paramFields(m: MethodDefinition): Readonly<Record<string, Type>> {
  return m.params.fields
}

/** The `_rpc_schema_` answer for a service (streaming methods are not offered over rpc-over-redis). */
export function rpcSchema(service: ServiceDefinition, forceStrict: boolean): RpcSchema {
  const types: RpcSchema['types'] = {}
  for (const m of service.methods.values()) if (!m.stream) types[m.name] = methodTypes(m)
  return { force_strict_validate_schema: forceStrict, types }
}

/** True when `v` looks like an `_rpc_schema_` answer. */
export function isRpcSchema(v: unknown): v is RpcSchema {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return typeof o.types === 'object' && o.types !== null && !Array.isArray(o.types)
}

/**
 * Compares the client's methods with a server's `_rpc_schema_` the way the Python client does:
 * argument names, then each argument's type name, then the return type (when both declare one).
 * Every difference is incompatible.
 */
export function compareRpcSchema(service: ServiceDefinition, server: RpcSchema): SchemaDifference[] {
  const out: SchemaDifference[] = []
  const diff = (
    method: string,
    path: string,
    message: string,
    kind: SchemaDifference['kind'] = 'type',
  ): void => void out.push({ method, path, message, compatible: false, kind })
  for (const m of service.methods.values()) {
    if (m.stream) continue
    const remote = server.types[m.name]
    if (typeof remote !== 'object' || remote === null) {
      diff(m.name, '', `the server does not have this method`, 'method-missing')
      continue
    }
    const local = methodTypes(m)
    const args = (o: Record<string, unknown>): string[] =>
      Object.keys(o)
        .filter((k) => k !== 'return')
        .sort()
    const la = args(local)
    const ra = args(remote)
    for (const a of la.filter((x) => !ra.includes(x)))
      diff(m.name, `params.${a}`, 'the server has no such argument')
    for (const a of ra.filter((x) => !la.includes(x)))
      diff(m.name, `params.${a}`, 'the client does not send this argument')
    for (const a of la.filter((x) => ra.includes(x))) {
      if (local[a] !== remote[a])
        diff(m.name, `params.${a}`, `client sends ${local[a]}, server expects ${String(remote[a])}`)
    }
    if (typeof remote.return === 'string' && local.return !== remote.return)
      diff(m.name, 'result', `server returns ${remote.return}, client expects ${local.return}`)
  }
  return out
}
