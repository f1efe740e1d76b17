/**
 * A typed client that calls a service in the rpc-over-redis wire format (a Python server, or a unipc
 * server in that mode): XADD the request to `<prefix>/request/<Service>`, wait for the reply on
 * `<prefix>/responce/<client>`. On first use it fetches `_rpc_schema_` and compares argument names
 * and types like the Python client; a mismatch fails calls to that method with SchemaMismatchError
 * (strict, or when the server forces it) or logs a warning.
 * @module
 */
import { randomUUID } from 'node:crypto'
import {
  AbortError,
  type CallOptions,
  ClosedError,
  InvalidArgumentError,
  type Logger,
  NoHandlerError,
  RemoteError,
  SchemaMismatchError,
  silentLogger,
  TimeoutError,
  UnipcObservable,
} from '@unipc/core'
import type { Redis } from 'ioredis'
import type { ServiceClient } from '../../client.js'
import { reviveError } from '../../remote-errors.js'
import { formatDifference, type SchemaDifference } from '../../schema/compare.js'
import type { MethodDefinition, ServiceDefinition } from '../../service.js'
import { validate } from '../../types/validate.js'
import type { ConnectionFactory } from './connection.js'
import { fromJson, toJson } from './json-values.js'
import { compareRpcSchema, isRpcSchema } from './python-types.js'
import {
  DEFAULT_PREFIX,
  DEFAULT_TIMEOUT_MS,
  normalizeId,
  PROTOCOL,
  parseReply,
  type RpcReply,
  replyChannel,
  requestStream,
  SCHEMA_METHOD,
} from './wire.js'

/** Options of an rpc-over-redis client. */
export interface RpcOverRedisClientOptions {
  /** Key prefix (default `/rpc-over-redis`). */
  readonly prefix?: string
  /** Service name on the wire (default: the definition's name). */
  readonly serviceName?: string
  /** Call timeout in ms (default 30 000, like the Python client). */
  readonly timeout?: number
  /** Schema check: `strict` fails calls to mismatched methods, `lenient` (default, like Python) warns, `off` skips. */
  readonly schema?: 'strict' | 'lenient' | 'off'
  /** Send parameters as `kwargs` (default) or positionally as `args` in declaration order. */
  readonly arguments?: 'kwargs' | 'args'
  /** Validate parameters and results against the definition (default true). */
  readonly validate?: boolean
  /** Where to log (default silent). */
  readonly logger?: Logger
}

interface Waiter {
  resolve(reply: RpcReply): void
}

/**
 * Creates a typed client over the rpc-over-redis wire format. Streaming methods are not available
 * (their Observables fail with InvalidArgumentError).
 */
export function createRpcOverRedisClient<S extends ServiceDefinition>(
  connect: ConnectionFactory,
  service: S,
  options: RpcOverRedisClientOptions = {},
): ServiceClient<S> {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const stream = requestStream(prefix, options.serviceName ?? service.name)
  const clientId = randomUUID().replace(/-/g, '')
  const logger = options.logger ?? silentLogger
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS
  const check = options.validate !== false
  const mode = options.schema ?? 'lenient'
  const waiters = new Map<string, Waiter>()
  let conns: Promise<{ cmd: Redis; sub: Redis }> | undefined
  let closed = false
  let blocked: Map<string, SchemaDifference[]> | undefined
  let schemaCheck: Promise<void> | undefined

  const open = (): Promise<{ cmd: Redis; sub: Redis }> => {
    conns ??= (async () => {
      const [cmd, sub] = await Promise.all([connect(), connect()])
      sub.on('message', (_channel: string, text: string) => {
        const reply = parseReply(text)
        if (!reply) return void logger.warn('rpc-over-redis: dropped a malformed reply')
        const w = waiters.get(normalizeId(reply.request))
        if (w) w.resolve(reply)
        else logger.debug(`rpc-over-redis: reply for unknown request ${reply.request}`)
      })
      await sub.subscribe(replyChannel(prefix, clientId))
      return { cmd, sub }
    })()
    return conns
  }

  const rawCall = async (
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    call: CallOptions,
  ) => {
    if (closed) throw new ClosedError(`rpc-over-redis call '${method}'`)
    const what = `rpc-over-redis call '${method}'`
    if (call.signal?.aborted) throw new AbortError(what)
    const { cmd } = await open()
    const request = randomUUID().replace(/-/g, '')
    const ms = call.timeout ?? timeout
    const reply = new Promise<RpcReply>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new TimeoutError(what, ms))), ms)
      const onAbort = (): void => finish(() => reject(new AbortError(what)))
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        call.signal?.removeEventListener('abort', onAbort)
        waiters.delete(request)
        settle()
      }
      call.signal?.addEventListener('abort', onAbort, { once: true })
      waiters.set(request, { resolve: (r) => finish(() => resolve(r)) })
    })
    const data = JSON.stringify({
      protocol: PROTOCOL,
      method,
      params: { args, kwargs },
      request,
      client: clientId,
    })
    await cmd.xadd(stream, '*', 'data', data)
    return reply
  }

  const checkSchema = async (): Promise<void> => {
    let answer: RpcReply
    try {
      answer = await rawCall(SCHEMA_METHOD, [], {}, {})
    } catch (err) {
      if (err instanceof TimeoutError) {
        logger.warn('rpc-over-redis: cannot get the schema from the service, skipping validation')
        blocked = new Map()
        return
      }
      throw err
    }
    if (answer.error || !isRpcSchema(answer.result)) {
      logger.warn(`rpc-over-redis: ${stream} gave no usable ${SCHEMA_METHOD}; skipping validation`)
      blocked = new Map()
      return
    }
    const diffs = compareRpcSchema(service, answer.result)
    const strict = mode === 'strict' || answer.result.force_strict_validate_schema === true
    blocked = new Map()
    if (diffs.length === 0) return
    if (!strict) {
      logger.warn(
        `rpc-over-redis: ${service.name} differs from the server: ${diffs.map(formatDifference).join('; ')}`,
      )
      return
    }
    for (const d of diffs) blocked.set(d.method ?? '', [...(blocked.get(d.method ?? '') ?? []), d])
  }

  const admit = async (method: string): Promise<void> => {
    if (mode === 'off') return
    if (!blocked) {
      schemaCheck ??= checkSchema().finally(() => {
        schemaCheck = undefined
      })
      await schemaCheck
    }
    const bad = blocked?.get(method)
    if (bad) throw new SchemaMismatchError(service.name, bad.map(formatDifference))
  }

  const unary =
    (m: MethodDefinition) =>
    async (params: Record<string, unknown> = {}, call: CallOptions = {}) => {
      if (check) validate(m.params, params, { resolve: service.resolve, path: 'params' })
      await admit(m.name)
      const json = toJson(params) as Record<string, unknown>
      const positional = options.arguments === 'args'
      const args = positional
        ? Object.keys(m.params.fields)
            .filter((k) => k in json)
            .map((k) => json[k])
        : []
      const reply = await rawCall(m.name, args, positional ? {} : json, call)
      if (reply.error) throw reviveError(toRemoteError(reply, service, m), m, service)
      const result = fromJson(m.result, reply.result, service.resolve)
      if (check) validate(m.result, result, { resolve: service.resolve, path: 'result' })
      return result
    }

  const client: Record<string, unknown> = {
    $service: service,
    async $checkSchema() {
      blocked = undefined
      await admit('')
      const all = [...(blocked ?? new Map<string, SchemaDifference[]>()).values()].flat()
      if (all.length > 0) throw new SchemaMismatchError(service.name, all.map(formatDifference))
      return undefined
    },
    async $close() {
      closed = true
      const c = conns
      conns = undefined
      if (c) {
        const { cmd, sub } = await c
        await Promise.allSettled([cmd.quit(), sub.quit()])
      }
    },
  }
  for (const m of service.methods.values()) {
    client[m.name] = m.stream
      ? () =>
          new UnipcObservable((s) =>
            s.error(new InvalidArgumentError(`method '${m.name}' streams; rpc-over-redis has no streams`)),
          )
      : unary(m)
  }
  return Object.freeze(client) as ServiceClient<S>
}

/** The error a failed reply stands for: NoHandlerError for an unknown method, else RemoteError. */
function toRemoteError(reply: RpcReply, service: ServiceDefinition, m: MethodDefinition): Error {
  const e = reply.error!
  if (e.type === 'RPCImplementationError' && /^method '.*' not registered$/.test(e.message))
    return new NoHandlerError(`${service.name}.${m.name}`)
  const parent = e.parent_exception
  return new RemoteError({
    name: parent?.type ?? e.type,
    message: e.message,
    code: e.type === 'RPCImplementationError' ? 'RPC_IMPLEMENTATION_ERROR' : 'RPC_EXECUTION_ERROR',
    data: parent?.data ?? e,
  })
}
