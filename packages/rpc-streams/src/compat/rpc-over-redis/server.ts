/**
 * Serves a unipc service in the rpc-over-redis wire format, so existing Python clients call it:
 * reads `<prefix>/request/<Service>` in consumer group `generic` (one consumer per instance, NOACK
 * like the Python server), runs the method and PUBLISHes the reply on `<prefix>/responce/<client>`.
 * Every malformed request that names its client gets an RPCImplementationError reply; one without
 * a usable client id is logged and dropped. Nothing a client sends stops the server.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { type Logger, silentLogger, ValidationError } from '@unipc/core'
import type { Redis } from 'ioredis'
import type { ServiceContext, ServiceImpl, ServiceServer } from '../../server.js'
import type { MethodDefinition, ServiceDefinition } from '../../service.js'
import { validate } from '../../types/validate.js'
import type { ConnectionFactory } from './connection.js'
import { fromJson, toJson } from './json-values.js'
import { paramFields, rpcSchema } from './python-types.js'
import {
  DEFAULT_GROUP,
  DEFAULT_PREFIX,
  errorReply,
  executionError,
  implementationError,
  MalformedRequest,
  parseRequestEntry,
  type RpcErrorObject,
  type RpcRequest,
  replyChannel,
  requestStream,
  resultReply,
  SCHEMA_METHOD,
} from './wire.js'

/** Options of rpc-over-redis serving. */
export interface RpcOverRedisServeOptions {
  /** Key prefix (default `/rpc-over-redis`). */
  readonly prefix?: string
  /** Service name on the wire (default: the definition's name). Python services use their class name. */
  readonly serviceName?: string
  /** Consumer group (default `generic`). */
  readonly group?: string
  /** Told to clients in `_rpc_schema_`: make them treat any type mismatch as an error (default false). */
  readonly forceStrictValidateSchema?: boolean
  /** Requests handled at once by this instance (default 16). */
  readonly concurrency?: number
  /** Check arguments against the definition (default true). */
  readonly validate?: boolean
  /** Where to log (default silent). */
  readonly logger?: Logger
}

/**
 * Serves `service` in the rpc-over-redis format.
 * @param connect - opens connections to the Redis (see connectionFactory)
 * @param service - the definition; streaming methods are not offered (rpc-over-redis has no streams)
 * @param impl - the implementation
 * @param options - prefix, wire service name, group, concurrency, logger
 */
export async function serveRpcOverRedis<S extends ServiceDefinition>(
  connect: ConnectionFactory,
  service: S,
  impl: ServiceImpl<S>,
  options: RpcOverRedisServeOptions = {},
): Promise<ServiceServer> {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const wireName = options.serviceName ?? service.name
  const stream = requestStream(prefix, wireName)
  const group = options.group ?? DEFAULT_GROUP
  const consumer = randomUUID().replace(/-/g, '')
  const logger = options.logger ?? silentLogger
  const limit = Math.max(1, options.concurrency ?? 16)
  const check = options.validate !== false
  const schema = rpcSchema(service, options.forceStrictValidateSchema === true)
  const stop = new AbortController()
  const reader = await connect()
  const writer = await connect()
  try {
    await reader.xgroup('CREATE', stream, group, '$', 'MKSTREAM')
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) {
      reader.disconnect()
      writer.disconnect()
      throw err
    }
  }
  const running = new Set<Promise<void>>()
  let wake: (() => void) | undefined

  const reply = (client: string, text: string): void => {
    writer.publish(replyChannel(prefix, client), text).catch((err: unknown) => {
      logger.warn(`rpc-over-redis: cannot publish a reply to ${client}`, err)
    })
  }

  const handle = async (fields: string[]): Promise<void> => {
    const req = parseRequestEntry(fields)
    if (req instanceof MalformedRequest) {
      logger.warn(`rpc-over-redis: malformed request on ${stream}: ${req.reason}`)
      if (req.client && req.request)
        reply(req.client, errorReply(req.request, implementationError(req.reason)))
      return
    }
    const outcome = await run(req)
    reply(
      req.client,
      'error' in outcome ? errorReply(req.request, outcome.error) : resultReply(req.request, outcome.result),
    )
  }

  const run = async (req: RpcRequest): Promise<{ result: unknown } | { error: RpcErrorObject }> => {
    if (req.method === SCHEMA_METHOD) return { result: schema }
    const m = service.methods.get(req.method)
    if (!m) return { error: implementationError(`method '${req.method}' not registered`) }
    if (m.stream)
      return {
        error: implementationError(
          `method '${req.method}' streams its result; rpc-over-redis has no streams`,
        ),
      }
    let params: Record<string, unknown>
    try {
      params = bindArguments(m, req)
      params = fromJson(m.params, params, service.resolve) as Record<string, unknown>
      if (check) validate(m.params, params, { resolve: service.resolve, path: 'params' })
    } catch (err) {
      const type = err instanceof ValidationError ? 'ValueError' : 'TypeError'
      return { error: executionError(type, (err as Error).message) }
    }
    const fn = (impl as Record<string, (p: unknown, c: ServiceContext) => unknown>)[m.name]!
    try {
      const result = await fn.call(impl, params, contextFor(service, m, req, stop.signal))
      return { result: toJson(result) }
    } catch (err) {
      return { error: errorObject(err) }
    }
  }

  const loop = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      if (running.size >= limit) {
        await new Promise<void>((r) => {
          wake = r
        })
        continue
      }
      let reply: unknown
      try {
        reply = await reader.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          limit - running.size,
          'BLOCK',
          1000,
          'NOACK',
          'STREAMS',
          stream,
          '>',
        )
      } catch (err) {
        if (stop.signal.aborted) return
        logger.warn(`rpc-over-redis: reading ${stream} failed; retrying`, err)
        await new Promise((r) => setTimeout(r, 500))
        if (String((err as Error).message).includes('NOGROUP'))
          await reader.xgroup('CREATE', stream, group, '$', 'MKSTREAM').catch(() => {})
        continue
      }
      for (const [, entries] of (reply as [string, [string, string[]][]][] | null) ?? []) {
        for (const [, fields] of entries) {
          const work = handle(fields ?? [])
            .catch((err: unknown) => logger.error('rpc-over-redis: request handling failed', err))
            .finally(() => {
              running.delete(work)
              wake?.()
            })
          running.add(work)
        }
      }
    }
  }
  const looping = loop()
  logger.debug(`rpc-over-redis: serving ${service.name} on ${stream} as consumer ${consumer}`)

  const close = async (): Promise<void> => {
    if (stop.signal.aborted) return
    stop.abort()
    wake?.()
    reader.disconnect()
    await looping.catch(() => {})
    await Promise.allSettled([...running])
    await closeQuietly(writer)
  }
  return { service, replyCache: undefined, close, [Symbol.asyncDispose]: close }
}

/** Maps Python-style `args` (declaration order) and `kwargs` onto the parameter object. */
function bindArguments(m: MethodDefinition, req: RpcRequest): Record<string, unknown> {
  const names = Object.keys(paramFields(m))
  const { args, kwargs } = req.params
  if (args.length > names.length)
    throw new TypeError(
      `${m.name}() takes ${names.length} positional arguments but ${args.length} were given`,
    )
  const params: Record<string, unknown> = {}
  args.forEach((v, i) => {
    params[names[i] as string] = v
  })
  for (const [k, v] of Object.entries(kwargs)) {
    if (!names.includes(k)) throw new TypeError(`${m.name}() got an unexpected keyword argument '${k}'`)
    if (k in params) throw new TypeError(`${m.name}() got multiple values for argument '${k}'`)
    params[k] = v
  }
  return params
}

function contextFor(
  service: ServiceDefinition,
  m: MethodDefinition,
  req: RpcRequest,
  signal: AbortSignal,
): ServiceContext {
  return {
    service: service.name,
    method: m.name,
    caller: req.client,
    callerAddress: `rpc-over-redis:${req.client}`,
    callId: req.request,
    redelivered: false,
    deadline: undefined,
    remaining: () => Number.POSITIVE_INFINITY,
    signal,
  }
}

/** The error object for what a handler threw; declared errors carry their fields in `parent_exception.data`. */
function errorObject(err: unknown): RpcErrorObject {
  if (err instanceof Error) {
    const data = (err as { data?: unknown }).data
    return executionError(
      err.name,
      err.message,
      typeof data === 'object' && data !== null ? (toJson(data) as Record<string, unknown>) : undefined,
    )
  }
  return executionError('Exception', String(err))
}

async function closeQuietly(client: Redis): Promise<void> {
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
}
