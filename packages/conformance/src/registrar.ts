/**
 * How case modules register cases: each case gets a fresh {@link CaseContext} that is disposed
 * when it ends, and a case needing a feature the transport lacks is registered with `it.skip` and a
 * title that says why, so it shows as skipped instead of silently missing.
 * @module
 */
import type { Supports } from '@unipc/core'
import { CaseContext } from './context.js'
import type { ConformanceKnobs, ConformanceOptions, TestApi } from './types.js'

/** What a case needs beyond the baseline. */
export interface CaseRequirements {
  /** Transport features the case relies on. */
  readonly requires?: readonly (keyof Supports)[]
  /** The case starts a peer process (needs `crossProcess` and `options.peer`). */
  readonly peer?: boolean
  /** The case restarts the server or broker (needs `options.restart`). */
  readonly restart?: boolean
  /** A longer per-case timeout factor for heavy cases (default 1). */
  readonly slow?: number
}

/** The body of a case. */
export type CaseBody = (t: CaseContext) => Promise<void>

/** Marker that separates a skipped case's title from its reason; the report script parses it. */
export const SKIP_MARKER = ' [skipped: '

/** The registration API case modules use. */
export class Registrar {
  constructor(
    readonly api: TestApi,
    readonly options: ConformanceOptions,
    readonly knobs: ConformanceKnobs,
    readonly supports: Supports,
  ) {}

  /** The expect of the caller's test framework. */
  get expect(): TestApi['expect'] {
    return this.api.expect
  }

  /** Groups cases (one group per facility). */
  group(name: string, body: () => void): void {
    this.api.describe(name, body)
  }

  /** Registers one case, or a visibly skipped one when a requirement is missing. */
  test(title: string, body: CaseBody, requirements: CaseRequirements = {}): void {
    const reason = this.#missing(requirements)
    if (reason) {
      this.api.it.skip(`${title}${SKIP_MARKER}${reason}]`, () => {})
      return
    }
    this.api.it(
      title,
      async () => {
        const t = new CaseContext(this.options, this.knobs)
        try {
          await body(t)
        } finally {
          await t.dispose()
        }
      },
      this.knobs.timeout * (requirements.slow ?? 1),
    )
  }

  #missing(r: CaseRequirements): string | undefined {
    const need = [...(r.requires ?? []), ...(r.peer ? (['crossProcess'] as const) : [])]
    const lacking = need.filter((f) => !this.supports[f])
    if (lacking.length > 0) return `the ${this.options.name} transport does not support ${lacking.join(', ')}`
    if (r.peer && !this.options.peer) return `no peer process configured (options.peer)`
    if (r.restart && !this.options.restart) return `no server restart hook configured (options.restart)`
    return undefined
  }
}
