/**
 * Exit codes scripts can rely on, and the one-line message for each failure.
 * @module
 */
import { ErrorCode, RemoteError, UnipcError } from '@unipc/core'

/** The exit codes of `unipc`. They never change meaning. */
export const Exit = {
  /** Success (also: a long-running command stopped by Ctrl-C or SIGTERM). */
  Ok: 0,
  /** The operation failed: the remote handler threw, or something unexpected happened. */
  Failed: 1,
  /** Bad usage: unknown subcommand or option, missing argument, malformed JSON. */
  Usage: 2,
  /** Cannot reach the transport: not running, wrong URL, refused credentials, package missing. */
  Unreachable: 3,
  /** No reply in time (--timeout). */
  Timeout: 4,
  /** Nothing there: no server for the method, setting not set, component never seen. */
  NotFound: 5,
} as const

/** A failure the command detected itself, with its exit code and a hint. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

/** A usage error: what is wrong and where to read more. */
export function usageError(message: string, command?: string): CliError {
  return new CliError(`${message} (see: unipc ${command ? `${command} ` : ''}--help)`, Exit.Usage)
}

/**
 * Maps any error to an exit code and a one-line message that says what to do.
 * @param err - what was thrown
 * @param url - the transport URL in use, for connection hints
 */
export function describeFailure(err: unknown, url: string): { code: number; message: string } {
  if (err instanceof CliError) return { code: err.exitCode, message: err.message }
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ')
  if (err instanceof RemoteError) {
    const code = err.code !== ErrorCode.Remote ? ` [${err.code}]` : ''
    return { code: Exit.Failed, message: `the handler failed: ${err.name}${code}: ${oneLine(err.message)}` }
  }
  if (err instanceof UnipcError) {
    switch (err.code) {
      case ErrorCode.Timeout:
        return { code: Exit.Timeout, message: `${oneLine(err.message)} (unipc: use --timeout <ms>)` }
      case ErrorCode.NoHandler:
        return { code: Exit.NotFound, message: oneLine(err.message) }
      case ErrorCode.InvalidArgument:
      case ErrorCode.Codec:
      case ErrorCode.Validation:
      case ErrorCode.PayloadTooLarge:
        return { code: Exit.Usage, message: oneLine(err.message) }
      case ErrorCode.Connection:
      case ErrorCode.Closed:
      case ErrorCode.Auth:
      case ErrorCode.TransportMissing:
      case ErrorCode.Protocol:
        return {
          code: Exit.Unreachable,
          message: `cannot use ${url}: ${oneLine(err.message)}${hint(err.code)}`,
        }
    }
    return { code: Exit.Failed, message: oneLine(err.message) }
  }
  const sys = (err as { code?: string }).code
  if (sys === 'ECONNREFUSED' || sys === 'ENOENT' || sys === 'EACCES' || sys === 'ETIMEDOUT') {
    return {
      code: Exit.Unreachable,
      message: `cannot connect to ${url} (${sys}): start it (unipc hub) or set --url / UNIPC_URL`,
    }
  }
  return { code: Exit.Failed, message: oneLine(err instanceof Error ? err.message : String(err)) }
}

function hint(code: string): string {
  if (code === ErrorCode.Auth) return ' (check the token or credentials in the URL)'
  if (code === ErrorCode.TransportMissing) return ''
  return ' (is it running? start a hub with: unipc hub, or set --url / UNIPC_URL)'
}
