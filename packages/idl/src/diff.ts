/**
 * `unipc-idl diff`: what changed between two versions of a spec, each change marked compatible or
 * breaking, judged by @unipc/rpc-streams' own schema comparison (the rules of the runtime check).
 * @module
 */
import { compareSchemas, type SchemaDifference } from '@unipc/rpc-streams'
import { contractOf } from './gen/runtime.js'
import type { LoadedSpec } from './load.js'

/** One change between two specs. */
export interface SpecChange {
  /** The member it concerns (`get_student`, `event student_added`, `setting level`…), or undefined for the service. */
  readonly member: string | undefined
  /** Where inside the member: `params.id`, `result.age`, `error StudentNotFound.id`, or empty. */
  readonly path: string
  readonly message: string
  /** False when old clients no longer work with the new service. */
  readonly compatible: boolean
}

/** The result of {@link diffSpecs}. */
export interface SpecDiff {
  /** True when the contracts are identical. */
  readonly equal: boolean
  readonly changes: readonly SpecChange[]
  /** True when any change breaks old clients of the new service. */
  readonly breaking: boolean
}

/**
 * Compares two specs the way a rolling upgrade meets them: clients built from `oldSpec` calling a
 * service built from `newSpec`. Added methods and optional fields are compatible; removed methods,
 * changed types and newly required fields are breaking.
 * @param oldSpec - the released spec
 * @param newSpec - the changed spec
 */
export function diffSpecs(oldSpec: LoadedSpec, newSpec: LoadedSpec): SpecDiff {
  const result = compareSchemas(contractOf(oldSpec), contractOf(newSpec))
  const changes = result.differences.map(
    (d: SchemaDifference): SpecChange => ({
      member: d.method,
      path: d.path,
      message: d.message,
      compatible: d.compatible,
    }),
  )
  return { equal: result.equal, changes, breaking: result.incompatible.length > 0 }
}

/** `breaking    get_student: params.id: client sends string, server expects int32` */
export function formatChange(c: SpecChange): string {
  const where = [c.member ?? 'service', c.path].filter(Boolean).join(': ')
  return `${c.compatible ? 'compatible' : 'breaking  '}  ${where}: ${c.message}`
}
