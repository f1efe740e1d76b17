/**
 * The injected logger. unipc never writes to the console: pass a logger (console works) to see logs.
 * @module
 */

/** A minimal structured logger; `console` satisfies it. */
export interface Logger {
  /** Detail useful when debugging unipc itself. */
  debug(message: string, ...details: unknown[]): void
  /** Something worth knowing in production (reconnected, hub started). */
  info(message: string, ...details: unknown[]): void
  /** Something went wrong but unipc recovered (a malformed frame dropped, a handler threw). */
  warn(message: string, ...details: unknown[]): void
  /** Something went wrong and was not recovered. */
  error(message: string, ...details: unknown[]): void
}

const noop = (): void => {}

/** A logger that discards everything: the default. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
