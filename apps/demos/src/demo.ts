/**
 * What every demo gets and is: a transport URL (undefined: UNIPC_URL or the embedded default) and
 * a narrator that prints who did what.
 * @module
 */
import { type Bus, connect, preview } from '@unipc/core'

/** What a demo runs with. */
export interface DemoContext {
  /** The transport URL; undefined uses UNIPC_URL, else the embedded default hub. */
  readonly url: string | undefined
  /** Narrates one step: who did it and what happened. */
  say(who: string, what: string): void
}

/** One demo. */
export interface Demo {
  /** Short name used on the command line, e.g. `components`. */
  readonly name: string
  /** One line saying which seed project's use case it shows. */
  readonly title: string
  /** True when it needs buses in different processes (not possible on `memory:`). */
  readonly crossProcess?: boolean
  /** Runs the demo to the end; throws when something did not happen as it should. */
  run(ctx: DemoContext): Promise<void>
}

/**
 * Connects a bus for a demo role.
 * @param ctx - the demo context (its URL)
 * @param component - the role's component name, if it has one
 */
export function connectAs(ctx: DemoContext, component?: string): Promise<Bus> {
  const options = { component, liveness: { interval: 250, timeout: 1000 } }
  return ctx.url === undefined ? connect(options) : connect(ctx.url, options)
}

/** Fails the demo with a clear message when a step did not do what it should. */
export function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new Error(`demo step failed: ${what}`)
}

/** Compact JSON for narration. */
export function show(value: unknown): string {
  return preview(value)
}

/** Polls until `check()` holds (demo steps that wait for something to arrive). */
export async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('demo step failed: waited too long')
    await new Promise((r) => setTimeout(r, 10))
  }
}
