/**
 * The shape of a subcommand, the options every subcommand shares, argument parsing with
 * node:util parseArgs, and the help text.
 * @module
 */
import { parseArgs } from 'node:util'
import { type Bus, type ConnectOptions, connect, defaultUrl } from '@unipc/core'
import { type CliError, Exit, usageError } from './exit.js'
import type { Output } from './output.js'

/** One option of a subcommand. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  /** `--name <arg>` shows this as `<arg>`. */
  readonly arg?: string
  readonly description: string
}

/** What a subcommand's `run` receives. */
export interface RunContext {
  /** Positional arguments after the subcommand name. */
  readonly args: readonly string[]
  /** Parsed options (shared and own). */
  readonly options: Readonly<Record<string, string | boolean | string[] | undefined>>
  readonly out: Output
  /** The transport URL in use (for messages). */
  readonly url: string
  /** Connects with the shared options (--url, --codec, --as, --timeout); closed by the caller. */
  connect(extra?: ConnectOptions): Promise<Bus>
  /** Aborts on Ctrl-C / SIGTERM: long-running commands stop and exit 0. */
  readonly signal: AbortSignal
}

/** A subcommand. */
export interface Command {
  readonly name: string
  /** One line for `unipc --help`. */
  readonly summary: string
  /** Usage line(s) after `unipc `. */
  readonly usage: readonly string[]
  /** A paragraph saying what it does and prints. */
  readonly description: string
  readonly options: Readonly<Record<string, OptionSpec>>
  /** Runnable examples. */
  readonly examples: readonly string[]
  /** Positional arguments: at least `min`, at most `max`. */
  readonly arity: { readonly min: number; readonly max: number }
  /** Runs; resolves with the exit code. */
  run(ctx: RunContext): Promise<number>
}

/** Options every subcommand accepts. */
export const sharedOptions: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: 'string',
    short: 'u',
    arg: 'url',
    description: 'transport URL (default: $UNIPC_URL, else the embedded hub)',
  },
  timeout: {
    type: 'string',
    short: 't',
    arg: 'ms',
    description: 'how long to wait for replies (default 5000)',
  },
  codec: {
    type: 'string',
    arg: 'name',
    description: 'payload codec of the buses you talk to: msgpack (default) or json',
  },
  as: { type: 'string', arg: 'component', description: 'act as this component (default: none)' },
  json: { type: 'boolean', description: 'print JSON (one object per line) for scripts' },
  'no-color': { type: 'boolean', description: 'no colours (also: NO_COLOR=1; never when piped)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}

/** The parsed command line of one subcommand. */
export interface Parsed {
  readonly args: string[]
  readonly options: Record<string, string | boolean | string[] | undefined>
}

/**
 * Parses a subcommand's arguments.
 * @throws CliError (exit 2) on unknown options, missing values or a wrong number of arguments
 */
export function parse(command: Command, argv: readonly string[]): Parsed {
  const all = { ...sharedOptions, ...command.options }
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const [name, o] of Object.entries(all)) {
    // parseArgs rejects keys whose value is undefined.
    config[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true })
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0] ?? 'bad arguments', command.name)
  }
  const options = parsed.values as Parsed['options']
  if (!options.help) {
    const n = parsed.positionals.length
    if (n < command.arity.min)
      throw usageError(`missing argument: usage: unipc ${command.usage[0]}`, command.name)
    if (n > command.arity.max)
      throw usageError(`too many arguments: usage: unipc ${command.usage[0]}`, command.name)
  }
  return { args: parsed.positionals, options }
}

/** Reads a positive integer option (ms, counts). */
export function intOption(ctx: RunContext, name: string, fallback: number): number {
  const raw = ctx.options[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--${name} must be a whole number, got '${raw}'`)
  return n
}

/** The URL a command will use. */
export function resolveUrl(options: Parsed['options']): string {
  return (options.url as string | undefined) ?? process.env.UNIPC_URL ?? defaultUrl()
}

/** Builds the connect function of a run context. */
export function connector(options: Parsed['options']): (extra?: ConnectOptions) => Promise<Bus> {
  return (extra = {}) => {
    const codec = options.codec as string | undefined
    if (codec !== undefined && codec !== 'json' && codec !== 'msgpack')
      throw usageError(`--codec must be msgpack or json, got '${codec}'`)
    const timeout = options.timeout === undefined ? 5000 : Number(options.timeout)
    if (!Number.isFinite(timeout) || timeout < 0)
      throw usageError(`--timeout must be milliseconds, got '${options.timeout}'`)
    return connect(resolveUrl(options), {
      component: options.as as string | undefined,
      codec: (codec as 'json' | 'msgpack' | undefined) ?? 'msgpack',
      timeout,
      ...extra,
    })
  }
}

/** The help text of a subcommand. */
export function helpText(command: Command, out: Output): string {
  const lines: string[] = []
  lines.push(`${out.paint('bold', 'Usage:')} ${command.usage.map((u) => `unipc ${u}`).join('\n       ')}`)
  lines.push('', command.description, '', out.paint('bold', 'Options:'))
  const all = { ...command.options, ...sharedOptions }
  const left = (name: string, o: OptionSpec): string =>
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` <${o.arg}>` : ''}`
  const width = Math.max(...Object.entries(all).map(([n, o]) => left(n, o).length))
  for (const [name, o] of Object.entries(all))
    lines.push(`  ${left(name, o).padEnd(width)}  ${o.description}`)
  if (command.examples.length > 0) {
    lines.push('', out.paint('bold', 'Examples:'))
    for (const e of command.examples) lines.push(`  ${e}`)
  }
  lines.push('', `Exit codes: ${exitSummary}`)
  return lines.join('\n')
}

/** One line naming every exit code. */
export const exitSummary = `${Exit.Ok} ok, ${Exit.Failed} failed, ${Exit.Usage} usage, ${Exit.Unreachable} cannot connect, ${Exit.Timeout} timeout, ${Exit.NotFound} not found`

/** Waits until the signal aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

export type { CliError }
