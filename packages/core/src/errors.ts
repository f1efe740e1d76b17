/**
 * The errors unipc throws. Every error extends {@link UnipcError} and carries a stable string `code`,
 * so callers can branch on `err.code` or `instanceof`. Messages say what happened and what to do.
 * @module
 */

/** Stable error codes. They never change meaning between releases. */
export const ErrorCode = {
  Timeout: 'UNIPC_TIMEOUT',
  Connection: 'UNIPC_CONNECTION',
  Closed: 'UNIPC_CLOSED',
  Remote: 'UNIPC_REMOTE',
  PayloadTooLarge: 'UNIPC_PAYLOAD_TOO_LARGE',
  Auth: 'UNIPC_AUTH',
  Codec: 'UNIPC_CODEC',
  Validation: 'UNIPC_VALIDATION',
  NoHandler: 'UNIPC_NO_HANDLER',
  Aborted: 'UNIPC_ABORTED',
  SchemaMismatch: 'UNIPC_SCHEMA_MISMATCH',
  TransportMissing: 'UNIPC_TRANSPORT_MISSING',
  InvalidArgument: 'UNIPC_INVALID_ARGUMENT',
  Protocol: 'UNIPC_PROTOCOL',
} as const

/** Options common to every unipc error. */
export interface UnipcErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown
}

/** Base class of every error unipc throws; `code` is stable and machine-readable. */
export class UnipcError extends Error {
  /** A stable, machine-readable code such as `UNIPC_TIMEOUT`. */
  readonly code: string

  /**
   * @param message - what happened and what to do about it
   * @param code - a stable code (see {@link ErrorCode})
   * @param options - `cause` of the error
   */
  constructor(message: string, code: string, options?: UnipcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }
}

/** A call, command or request did not complete before its deadline. */
export class TimeoutError extends UnipcError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number
  /** @param what - the operation that timed out; @param timeoutMs - its timeout */
  constructor(what: string, timeoutMs: number, options?: UnipcErrorOptions) {
    super(
      `${what} timed out after ${timeoutMs} ms; raise { timeout } or check that a handler is running`,
      ErrorCode.Timeout,
      options,
    )
    this.timeoutMs = timeoutMs
  }
}

/** The link to the peer or broker failed, or the peer died while a call was in flight. */
export class ConnectionError extends UnipcError {
  /** @param message - what failed; @param code - defaults to `UNIPC_CONNECTION` */
  constructor(message: string, options?: UnipcErrorOptions & { code?: string }) {
    super(message, options?.code ?? ErrorCode.Connection, options)
  }
}

/** The bus was closed: pending calls are rejected with it and later calls fail with it. */
export class ClosedError extends ConnectionError {
  /** @param what - the operation that could not run */
  constructor(what = 'operation', options?: UnipcErrorOptions) {
    super(`${what} failed: the bus is closed; connect() again to get a new bus`, {
      ...options,
      code: ErrorCode.Closed,
    })
  }
}

/** The shape in which an error travels between processes. */
export interface SerializedError {
  /** The error's class name on the remote side, e.g. `TypeError` or `StudentNotFound`. */
  name: string
  /** The remote error's message. */
  message: string
  /** The remote error's code, when it had one. */
  code?: string
  /** Structured data attached to the remote error (its own enumerable fields or `data`). */
  data?: unknown
  /** The remote stack, only when the server opted in to sending stacks. */
  stack?: string
}

/**
 * An error thrown by a remote handler. `name`, `message`, `code` and `data` are the remote error's;
 * `instanceof RemoteError` tells that it came from the other side.
 */
export class RemoteError extends UnipcError {
  /** Structured data the remote handler attached to its error. */
  readonly data: unknown
  /** The remote stack, when the server sends stacks. */
  readonly remoteStack: string | undefined

  /** @param remote - the error as it arrived */
  constructor(remote: SerializedError, options?: UnipcErrorOptions) {
    super(remote.message, remote.code ?? ErrorCode.Remote, options)
    this.name = remote.name || 'RemoteError'
    this.data = remote.data
    this.remoteStack = remote.stack
  }
}

/** A payload exceeds the transport's (or the configured) maximum size. */
export class PayloadTooLargeError extends UnipcError {
  /** Size of the rejected payload in bytes. */
  readonly size: number
  /** The limit in bytes. */
  readonly limit: number
  /** @param size - bytes attempted; @param limit - bytes allowed */
  constructor(size: number, limit: number, options?: UnipcErrorOptions) {
    super(
      `payload of ${size} bytes exceeds the limit of ${limit} bytes; send less or raise maxPayload`,
      ErrorCode.PayloadTooLarge,
      options,
    )
    this.size = size
    this.limit = limit
  }
}

/** Authentication failed: wrong token, bad certificate or refused credentials. */
export class AuthError extends UnipcError {
  /** @param message - what was refused and how to fix it */
  constructor(message: string, options?: UnipcErrorOptions) {
    super(message, ErrorCode.Auth, options)
  }
}

/** A payload could not be encoded or decoded. */
export class CodecError extends UnipcError {
  /** @param message - what could not be encoded or decoded */
  constructor(message: string, options?: UnipcErrorOptions & { code?: string }) {
    super(message, options?.code ?? ErrorCode.Codec, options)
  }
}

/** A value does not match its declared type; `path` names the offending field. */
export class ValidationError extends CodecError {
  /** Dotted path of the offending field, e.g. `info.age`. */
  readonly path: string
  /** @param path - field path; @param message - what is wrong with it */
  constructor(path: string, message: string, options?: UnipcErrorOptions) {
    super(`${path || '(value)'}: ${message}`, { ...options, code: ErrorCode.Validation })
    this.path = path
  }
}

/** Nobody serves the method, or no worker exists where one is required. */
export class NoHandlerError extends UnipcError {
  /** The method or queue that has no handler. */
  readonly target: string
  /** @param target - the method or queue name */
  constructor(target: string, options?: UnipcErrorOptions) {
    super(
      `no handler for '${target}': start a server with requests.serve('${target}', …)`,
      ErrorCode.NoHandler,
      options,
    )
    this.target = target
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends UnipcError {
  /** @param what - the operation that was aborted */
  constructor(what = 'operation', options?: UnipcErrorOptions) {
    super(`${what} was aborted`, ErrorCode.Aborted, options)
  }
}

/** Client and server disagree on a service's contract. */
export class SchemaMismatchError extends UnipcError {
  /** Each incompatible difference, e.g. `method getStudent: parameter id changed string -> int32`. */
  readonly differences: readonly string[]
  /** @param service - the service name; @param differences - what differs */
  constructor(service: string, differences: readonly string[], options?: UnipcErrorOptions) {
    super(
      `service '${service}' is incompatible with the server: ${differences.join('; ')}`,
      ErrorCode.SchemaMismatch,
      options,
    )
    this.differences = differences
  }
}

/** The URL names a transport whose package is not installed. */
export class TransportMissingError extends UnipcError {
  /** The npm package to install. */
  readonly packageName: string
  /** @param scheme - the URL scheme; @param packageName - the package that provides it */
  constructor(scheme: string, packageName: string, options?: UnipcErrorOptions) {
    super(
      `the '${scheme}' transport needs ${packageName}: run npm install ${packageName}`,
      ErrorCode.TransportMissing,
      options,
    )
    this.packageName = packageName
  }
}

/** An argument is malformed (bad URL, empty name, invalid pattern…). */
export class InvalidArgumentError extends UnipcError {
  /** @param message - what is wrong with the argument */
  constructor(message: string, options?: UnipcErrorOptions) {
    super(message, ErrorCode.InvalidArgument, options)
  }
}

/** A peer sent something that breaks the protocol (malformed frame, unknown type, bad version). */
export class ProtocolError extends UnipcError {
  /** @param message - what was malformed */
  constructor(message: string, options?: UnipcErrorOptions) {
    super(message, ErrorCode.Protocol, options)
  }
}

const localErrorClasses: Record<string, (e: SerializedError) => UnipcError> = {
  [ErrorCode.NoHandler]: (e) =>
    new NoHandlerError(String((e.data as { target?: string } | undefined)?.target ?? e.message)),
  // Only the transport's own "the process handling your call died" reply (see lostCallReply) comes
  // back as a ConnectionError; a handler that throws one still arrives as a RemoteError.
  [ErrorCode.Connection]: (e) =>
    (e.data as { peerLost?: unknown } | undefined)?.peerLost === true
      ? new ConnectionError(e.message)
      : new RemoteError(e),
  [ErrorCode.PayloadTooLarge]: (e) => {
    const d = (e.data ?? {}) as { size?: number; limit?: number }
    return new PayloadTooLargeError(d.size ?? 0, d.limit ?? 0)
  },
}

/**
 * Turns any thrown value into the shape that travels to the caller. Own enumerable fields of the
 * error (other than name/message/stack/code) become `data` unless the error has a `data` field.
 * @param err - what the handler threw
 * @param withStack - include the stack (off by default: stacks leak file paths)
 */
export function serializeError(err: unknown, withStack = false): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message }
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') out.code = code
    if ('data' in err) out.data = (err as { data?: unknown }).data
    else {
      const extra: Record<string, unknown> = {}
      let any = false
      for (const key of Object.keys(err)) {
        if (key === 'code' || key === 'name' || key === 'message' || key === 'stack' || key === 'cause')
          continue
        extra[key] = (err as unknown as Record<string, unknown>)[key]
        any = true
      }
      if (any) out.data = extra
    }
    if (withStack && err.stack) out.stack = err.stack
    return out
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) }
}

/**
 * Turns a serialized error back into an Error. unipc's own transportable errors (no handler,
 * payload too large) come back as their own classes; everything else as {@link RemoteError}.
 * @param e - the error as it arrived
 */
export function deserializeError(e: SerializedError): UnipcError {
  const make = e.code ? localErrorClasses[e.code] : undefined
  return make ? make(e) : new RemoteError(e)
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' ? JSON.stringify(v) : String(v)
  } catch {
    return Object.prototype.toString.call(v)
  }
}
