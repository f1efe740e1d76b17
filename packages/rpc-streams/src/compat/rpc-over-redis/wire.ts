/**
 * The wire format of the Python rpc-over-redis library (v0.0.5), as data: key names, the request
 * entry, the reply and error objects. Parsing never trusts its input: a malformed request becomes
 * a typed problem the server answers with an error reply (when it knows where to send it).
 * Documented in docs/protocol/rpc-over-redis.md.
 * @module
 */

/** Default key prefix. */
export const DEFAULT_PREFIX = '/rpc-over-redis'
/** Consumer group every server instance reads the request stream with. */
export const DEFAULT_GROUP = 'generic'
/** The only protocol version there is. */
export const PROTOCOL = 1
/** The reserved method that returns the server's argument types. */
export const SCHEMA_METHOD = '_rpc_schema_'
/** The Python client's default timeout, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000

/** `<prefix>/request/<service>`: the stream requests are XADDed to. */
export const requestStream = (prefix: string, service: string): string => `${prefix}/request/${service}`
/** `<prefix>/responce/<client>`: the channel replies are PUBLISHed on (the misspelling is on the wire). */
export const replyChannel = (prefix: string, client: string): string => `${prefix}/responce/${client}`

/** A request as the Python client writes it in the entry's `data` field. */
export interface RpcRequest {
  protocol: number
  method: string
  params: { args: unknown[]; kwargs: Record<string, unknown> }
  /** uuid4 hex of the request. */
  request: string
  /** uuid hex of the client (its reply channel). */
  client: string
}

/** The error object of a failed call. */
export interface RpcErrorObject {
  /** `RPCExecutionError` (the handler raised) or `RPCImplementationError` (bad request, unknown method). */
  type: string
  message: string
  /** The exception the handler raised; unipc adds `data` with a declared error's fields. */
  parent_exception: { type: string; message: unknown[] | null; data?: Record<string, unknown> } | null
  arg: string[]
}

/** A reply as PUBLISHed on the client's channel. */
export interface RpcReply {
  protocol: number
  request: string
  result: unknown
  error: RpcErrorObject | null
}

/** A request that cannot be served; `client`/`request` are set when the reply can still be sent. */
export class MalformedRequest {
  constructor(
    readonly reason: string,
    readonly client: string | undefined,
    readonly request: string | undefined,
  ) {}
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const ID = /^[A-Za-z0-9_-]{1,128}$/

/**
 * Parses the fields of one stream entry (`[name, value, …]`) into a request.
 * @returns the request, or a MalformedRequest saying why (with the reply address when known)
 */
export function parseRequestEntry(fields: readonly string[]): RpcRequest | MalformedRequest {
  let raw: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'data') raw = fields[i + 1]
  if (raw === undefined) return new MalformedRequest("the entry has no 'data' field", undefined, undefined)
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return new MalformedRequest("the 'data' field is not JSON", undefined, undefined)
  }
  if (!isRecord(v)) return new MalformedRequest("'data' is not a JSON object", undefined, undefined)
  const client = typeof v.client === 'string' && ID.test(v.client) ? v.client : undefined
  const request = typeof v.request === 'string' && v.request.length <= 128 ? v.request : undefined
  const bad = (reason: string): MalformedRequest => new MalformedRequest(reason, client, request)
  if (client === undefined) return bad("'client' must be a uuid hex string")
  if (request === undefined) return bad("'request' must be a string")
  if (v.protocol !== PROTOCOL) return bad(`message.protocol (${JSON.stringify(v.protocol)}) != ${PROTOCOL}`)
  if (typeof v.method !== 'string' || v.method.length === 0) return bad("'method' must be a non-empty string")
  const params = v.params
  if (!isRecord(params) || !Array.isArray(params.args) || !isRecord(params.kwargs))
    return bad('\'params\' must be {"args": [...], "kwargs": {...}}')
  return {
    protocol: PROTOCOL,
    method: v.method,
    params: { args: params.args, kwargs: params.kwargs },
    request,
    client,
  }
}

/** Parses a reply published on a client's channel; undefined when it is not one. */
export function parseReply(raw: string): RpcReply | undefined {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!isRecord(v) || typeof v.request !== 'string') return undefined
  const error = isRecord(v.error) ? (v.error as unknown as RpcErrorObject) : null
  return { protocol: Number(v.protocol ?? PROTOCOL), request: v.request, result: v.result ?? null, error }
}

/** Lower-case hex without dashes: how request ids are matched (Python replies with the dashed form). */
export function normalizeId(id: string): string {
  return id.replace(/-/g, '').toLowerCase()
}

/** The dashed form pydantic writes for a UUID (`8-4-4-4-12`), or the id unchanged when it is not a UUID. */
export function dashedUuid(id: string): string {
  const hex = normalizeId(id)
  if (!/^[0-9a-f]{32}$/.test(hex)) return id
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The reply text for a result (key order as pydantic writes it). */
export function resultReply(request: string, result: unknown): string {
  return JSON.stringify({
    protocol: PROTOCOL,
    request: dashedUuid(request),
    result: result ?? null,
    error: null,
  })
}

/** The reply text for an error. */
export function errorReply(request: string, error: RpcErrorObject): string {
  return JSON.stringify({ protocol: PROTOCOL, request: dashedUuid(request), result: null, error })
}

/** `RPCImplementationError`: the request itself is wrong (bad shape, unknown method). */
export function implementationError(message: string): RpcErrorObject {
  return { type: 'RPCImplementationError', message, parent_exception: null, arg: [message] }
}

/** `RPCExecutionError`: the handler raised `type` with `message` (and, for declared errors, `data`). */
export function executionError(
  type: string,
  message: string,
  data?: Record<string, unknown>,
): RpcErrorObject {
  const parent: RpcErrorObject['parent_exception'] = { type, message: [message] }
  if (data && Object.keys(data).length > 0) parent.data = data
  return { type: 'RPCExecutionError', message, parent_exception: parent, arg: [message] }
}
