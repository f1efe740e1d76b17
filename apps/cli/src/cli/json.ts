/**
 * JSON arguments on the command line.
 * @module
 */
import { usageError } from './exit.js'

/**
 * Parses a JSON argument.
 * @param text - the argument as typed
 * @param what - what it is, for the error message
 * @param command - the subcommand, for the help hint
 * @throws CliError (exit 2) when it is not JSON
 */
export function parseJson(text: string, what: string, command: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw usageError(
      `${what} is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"a":1}' or '"text"'`,
      command,
    )
  }
}

/** Parses JSON when it is JSON, else keeps the text as a string (for setting values). */
export function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
