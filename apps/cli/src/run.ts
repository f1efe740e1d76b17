/**
 * Runs `unipc <subcommand> …`: parses, connects, maps failures to exit codes and one-line messages.
 * @module
 */
import { readFileSync } from 'node:fs'
import { connector, exitSummary, helpText, parse, resolveUrl } from './cli/command.js'
import { describeFailure, Exit, usageError } from './cli/exit.js'
import { makeOutput, type Output } from './cli/output.js'
import { commands } from './commands/index.js'

/**
 * Runs the command line and resolves with the exit code (it never throws).
 * @param argv - arguments after `unipc`
 * @param signal - aborts long-running subcommands (Ctrl-C)
 */
export async function runCli(argv: readonly string[], signal: AbortSignal): Promise<number> {
  const out = makeOutput(argv.includes('--no-color'))
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined
    out.line(topic ? helpText(topic, out) : mainHelp(out))
    return Exit.Ok
  }
  if (name === '--version' || name === '-V') {
    out.line(version())
    return Exit.Ok
  }
  const command = commands.find((c) => c.name === name)
  let url = process.env.UNIPC_URL ?? 'the default hub'
  try {
    if (!command)
      throw usageError(`unknown command '${name}'; commands: ${commands.map((c) => c.name).join(', ')}`)
    const parsed = parse(command, rest)
    if (parsed.options.help) {
      out.line(helpText(command, out))
      return Exit.Ok
    }
    url = resolveUrl(parsed.options)
    return await command.run({
      args: parsed.args,
      options: parsed.options,
      out,
      url,
      connect: connector(parsed.options),
      signal,
    })
  } catch (err) {
    const { code, message } = describeFailure(err, url)
    out.error(`${out.paint('red', 'unipc:')} ${message}`)
    return code
  }
}

function mainHelp(out: Output): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    `${out.paint('bold', 'unipc')} — talk to any unipc bus (${version()})`,
    '',
    `${out.paint('bold', 'Usage:')} unipc <command> [args] [--url <url>] [--json] [--help]`,
    '',
    out.paint('bold', 'Commands:'),
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'The transport is --url, else $UNIPC_URL, else the embedded default hub (a unix socket).',
    'URLs: unix:///path  tcp://host:port?token=t  redis://host:port/db  shm://name',
    `Exit codes: ${exitSummary}`,
    'Run unipc <command> --help for details.',
  ].join('\n')
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    return `v${pkg.version}`
  } catch {
    return 'v?'
  }
}
