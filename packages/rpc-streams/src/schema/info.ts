/**
 * What the reserved `<service>._schema` method answers: the server's view of the contract.
 * @module
 */
import type { CanonicalService } from '../types/canonical.js'

/** The reply of `<service>._schema`. */
export interface SchemaInfo {
  /** The service name. */
  readonly name: string
  /** The server's version label. */
  readonly version: string
  /** `sha256:<hex>` of the canonical form. */
  readonly fingerprint: string
  /** The server's canonical definition (compared field by field when fingerprints differ). */
  readonly canonical: CanonicalService
  /**
   * Methods also served at `<service>.<method>#bytes` (see `BYTES_SUFFIX`), each with the name of
   * its one binary parameter. Absent from older servers' replies (then nothing is sent there).
   */
  readonly bytesParams?: Readonly<Record<string, string>>
}

/** Name of the reserved method that answers the schema check, e.g. `school.Students._schema`. */
export function schemaMethod(service: string): string {
  return `${service}._schema`
}

/** True when a decoded reply has the shape of a {@link SchemaInfo}. */
export function isSchemaInfo(v: unknown): v is SchemaInfo {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  const c = o.canonical as Record<string, unknown> | undefined
  return (
    typeof o.name === 'string' &&
    typeof o.version === 'string' &&
    typeof o.fingerprint === 'string' &&
    typeof c === 'object' &&
    c !== null &&
    typeof c.name === 'string' &&
    typeof c.methods === 'object' &&
    typeof c.models === 'object' &&
    typeof c.errors === 'object'
  )
}
