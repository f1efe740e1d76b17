/**
 * The client side of the schema check: on first use, ask `<service>._schema`, compare fingerprints,
 * and on a difference compare the canonical forms. Equal -> go; only compatible differences -> go
 * with a debug note; incompatible ones -> calls to the affected methods fail with
 * SchemaMismatchError (strict) or go after one warning (lenient). A method missing on the server
 * that answered is not blocked (see {@link SchemaGate.assert}).
 * @module
 */
import {
  AbortError,
  type Bus,
  type Logger,
  NoHandlerError,
  SchemaMismatchError,
  TimeoutError,
} from '@unipc/core'
import type { ServiceDefinition } from '../service.js'
import { compareSchemas, formatDifference, type SchemaComparison, type SchemaDifference } from './compare.js'
import { isSchemaInfo, type SchemaInfo, schemaMethod } from './info.js'

/** How the client reacts to an incompatible server: fail (`strict`), warn (`lenient`) or not check (`off`). */
export type SchemaMode = 'strict' | 'lenient' | 'off'

/** The outcome of a schema check. */
export interface SchemaCheckResult {
  /** The server's answer. */
  readonly server: SchemaInfo
  /** The comparison (`equal` when the fingerprints match). */
  readonly comparison: SchemaComparison
}

/** Runs the check once per client and answers "may this method be called?". */
export class SchemaGate {
  #result: SchemaCheckResult | undefined
  #running: Promise<SchemaCheckResult | undefined> | undefined
  /**
   * True when any method may be called at once, with nothing to wait for or check: checks are off,
   * or the last check is done and found nothing that {@link SchemaGate.assert} would reject. Read on
   * every call, so it is a plain field (set when a check ends) rather than a getter that decides.
   */
  clear: boolean

  constructor(
    private readonly bus: Bus,
    private readonly service: ServiceDefinition,
    private readonly mode: SchemaMode,
    private readonly logger: Logger,
    private readonly timeout: number | undefined,
  ) {
    this.clear = mode === 'off'
  }

  /** True when no check is pending (checked already, or checks are off): calls need not wait. */
  get settled(): boolean {
    return this.mode === 'off' || this.#result !== undefined
  }

  /** The last check's result, if any. */
  get result(): SchemaCheckResult | undefined {
    return this.#result
  }

  /**
   * Checks (once; concurrent callers share the check) and throws SchemaMismatchError when `method`
   * may not be called. When nobody serves `_schema` yet, the call goes ahead unchecked (it will
   * fail with NoHandlerError itself) and the check runs again on the next call.
   */
  async admit(method: string): Promise<void> {
    if (this.mode === 'off') return
    if (!this.#result) await this.check()
    this.assert(method)
  }

  /**
   * {@link SchemaGate.admit} bounded by a call's timeout and signal: the check itself goes on for
   * later calls, but this call fails with TimeoutError or AbortError when its own time is up.
   */
  async admitWithin(
    method: string,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (timeout === undefined && signal === undefined) return this.admit(method)
    const what = `schema check of '${this.service.name}' before calling '${method}'`
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const limit = new Promise<never>((_, reject) => {
      if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout))
        timer = setTimeout(() => reject(new TimeoutError(what, timeout)), timeout)
      if (signal) {
        onAbort = () => reject(new AbortError(what, { cause: signal.reason }))
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      }
    })
    const admitted = this.admit(method)
    admitted.catch(() => {}) // observed below; this keeps a late failure from going unhandled
    try {
      await Promise.race([admitted, limit])
    } finally {
      clearTimeout(timer)
      if (onAbort) signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * The parameter field whose bytes alone the answering server takes at `<method>#bytes`, or
   * undefined (not checked, an older server, or not such a method). The reply is the network's:
   * only an own string entry counts.
   */
  bytesField(method: string): string | undefined {
    const table = this.#result?.server.bytesParams
    if (typeof table !== 'object' || table === null || !Object.hasOwn(table, method)) return undefined
    const field = (table as Record<string, unknown>)[method]
    return typeof field === 'string' ? field : undefined
  }

  /** Throws SchemaMismatchError (strict mode) when the last check found `method` incompatible. */
  assert(method: string): void {
    if (this.mode !== 'strict' || !this.#result) return
    const incompatible = this.#result.comparison.incompatible
    if (incompatible.length === 0) return // the common case, checked on every call: nothing to build
    // A method the answering server lacks is not blocked: during a rolling upgrade another instance
    // may have it, and calls are routed only to servers of the method (else NoHandlerError).
    const bad = incompatible.filter(
      (d) => (d.method === undefined || d.method === method) && d.kind !== 'method-missing',
    )
    if (bad.length > 0) throw new SchemaMismatchError(this.service.name, bad.map(formatDifference))
  }

  /** Throws SchemaMismatchError (strict mode) listing every incompatible difference of the last check. */
  assertAll(): void {
    const bad = this.#result?.comparison.incompatible ?? []
    if (this.mode === 'strict' && bad.length > 0)
      throw new SchemaMismatchError(this.service.name, bad.map(formatDifference))
  }

  /** Asks the server for its schema and compares (shared by concurrent callers). */
  check(): Promise<SchemaCheckResult | undefined> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #run(): Promise<SchemaCheckResult | undefined> {
    const name = this.service.name
    let reply: unknown
    try {
      reply = await this.bus.requests.call(
        schemaMethod(name),
        { fingerprint: this.service.fingerprint },
        {
          timeout: this.timeout,
        },
      )
    } catch (err) {
      if (err instanceof NoHandlerError) return undefined
      throw err
    }
    if (!isSchemaInfo(reply)) {
      throw new SchemaMismatchError(name, [`the server's ${schemaMethod(name)} reply is not a unipc schema`])
    }
    const comparison: SchemaComparison =
      reply.fingerprint === this.service.fingerprint
        ? { equal: true, differences: [], incompatible: [] }
        : compareSchemas(this.service.canonical, reply.canonical)
    this.#result = { server: reply, comparison }
    this.clear = this.mode !== 'strict' || comparison.incompatible.length === 0
    this.#report(reply, comparison.differences)
    return this.#result
  }

  #report(server: SchemaInfo, diffs: readonly SchemaDifference[]): void {
    if (diffs.length === 0) return
    const where = `service ${this.service.name}: client ${this.service.version}, server ${server.version}`
    const compatible = diffs.filter((d) => d.compatible)
    const incompatible = diffs.filter((d) => !d.compatible)
    if (compatible.length > 0)
      this.logger.debug(
        `rpc-streams: ${where}: compatible differences: ${compatible.map(formatDifference).join('; ')}`,
      )
    if (incompatible.length > 0 && this.mode === 'lenient')
      this.logger.warn(
        `rpc-streams: ${where}: INCOMPATIBLE differences (lenient mode, calls go ahead): ${incompatible.map(formatDifference).join('; ')}`,
      )
  }
}
