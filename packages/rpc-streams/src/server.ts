/**
 * `serve(bus, service, impl)`: registers every method of a service on a bus as a core request
 * handler (`<service>.<method>`), plus the reserved `<service>._schema` method that answers the
 * schema check. Several `serve` calls for one service, in one or many processes, share the load.
 * @module
 */
import {
  type Bus,
  type Closable,
  InvalidArgumentError,
  type Logger,
  type RequestContext,
  silentLogger,
  type Transport,
  ValidationError,
} from '@unipc/core'
import type { Observable } from 'rxjs'
import { connectionFactory, type RedisTarget, redisTargetOf } from './compat/rpc-over-redis/connection.js'
import { type RpcOverRedisServeOptions, serveRpcOverRedis } from './compat/rpc-over-redis/server.js'
import { type IdempotencyOptions, ReplyCache } from './idempotency.js'
import { type SchemaInfo, schemaMethod } from './schema/info.js'
import type { MethodDefinition, MethodSpec, ParamsOf, ResultOf, ServiceDefinition } from './service.js'
import { compileIsValid, compileValidator } from './types/compile.js'
import { asDescriptor, type Type } from './types/descriptors.js'

/** What a method implementation receives besides its parameters. */
export interface ServiceContext {
  /** The service name. */
  readonly service: string
  /** The method name (without the service prefix). */
  readonly method: string
  /** The calling component (empty when the caller has none). */
  readonly caller: string
  /** The caller's inbox address (diagnostics). */
  readonly callerAddress: string
  /** Unique id of this call (`<caller address>#<n>`): the same for a redelivered copy of the call. */
  readonly callId: string
  /** True when the transport delivered this call before (its earlier server died). */
  readonly redelivered: boolean
  /** Epoch-ms deadline of the call, or undefined when the caller waits forever. */
  readonly deadline: number | undefined
  /** Milliseconds left before the deadline (Infinity without one, never negative). */
  remaining(): number
  /** Aborts when the caller cancels (unsubscribe, abort), the deadline passes or the bus closes. */
  readonly signal: AbortSignal
}

/** What a streaming implementation may return. */
export type StreamReturn<T> = Observable<T> | AsyncIterable<T> | Iterable<T>

/** The implementation of one method. */
export type ImplMethod<S extends MethodSpec> = (
  params: ParamsOf<S>,
  ctx: ServiceContext,
) => S['stream'] extends true
  ? StreamReturn<ResultOf<S>> | Promise<StreamReturn<ResultOf<S>>>
  : ResultOf<S> | Promise<ResultOf<S>>

/** An object (or class instance) implementing every method of a service. */
export type ServiceImpl<S extends ServiceDefinition> = {
  [K in keyof S['spec']]: ImplMethod<S['spec'][K]>
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Check incoming parameters against the definition (default true). */
  readonly validate?: boolean
  /**
   * Reply cache for redelivered unary calls (60 s, 10 000 replies by default). Default: on when the
   * transport redelivers requests whose server died (Redis), off otherwise (the socket hub and shm
   * answer such calls with ConnectionError instead, so a cache would only cost time). `true`,
   * options or `false` override.
   */
  readonly idempotency?: IdempotencyOptions | boolean
  /** Where to log (default silent). */
  readonly logger?: Logger
  /**
   * `'rpc-over-redis'`: serve in the Python rpc-over-redis wire format instead of unipc's own
   * (the bus must be on the Redis transport, or give `rpcOverRedis.redis`).
   */
  readonly compat?: 'rpc-over-redis'
  /** Options of the rpc-over-redis mode. */
  readonly rpcOverRedis?: RpcOverRedisServeOptions & { readonly redis?: RedisTarget }
}

/** A running service; `close()` stops serving every method. */
export interface ServiceServer extends Closable, AsyncDisposable {
  /** The service served. */
  readonly service: ServiceDefinition
  /** The reply cache, when idempotency is on. */
  readonly replyCache: ReplyCache | undefined
}

/**
 * True when `transport` hands a request whose server died to another server. No SPI flag says so
 * yet: a transport may declare `supports.requestRedelivery`; otherwise Redis (streams with consumer
 * groups, pending entries claimed by live servers) is the one that does.
 */
export function redeliversRequests(transport: Transport): boolean {
  const declared = (transport.supports as { requestRedelivery?: boolean }).requestRedelivery
  return declared ?? transport.name === 'redis'
}

/** The core method name of a service method, e.g. `school.Students.get`. */
export function methodName(service: ServiceDefinition, method: string): string {
  return `${service.name}.${method}`
}

/**
 * Suffix of the second core method of a unary method whose parameters are one binary field
 * (`{ data: t.binary() }`): `<service>.<method>#bytes` takes that field's bytes alone as its body
 * and calls the same implementation with `{ <field>: bytes }`. Clients that learn of it from the
 * schema check send such calls there, without the msgpack map around the bytes (the map costs
 * each side about as much again as a raw call's body); every other call, and every older peer,
 * uses the method itself. (`#` cannot occur in a method name, so the two never collide.)
 */
export const BYTES_SUFFIX = '#bytes'

/**
 * The one field of a unary method's parameters when that is all they have and it is binary (then
 * the method is also served at {@link BYTES_SUFFIX}); undefined otherwise.
 */
export function bytesParamsField(m: MethodDefinition): string | undefined {
  if (m.stream) return undefined
  const names = Object.keys(m.params.fields)
  if (names.length !== 1) return undefined
  const field = names[0] as string
  if (field === '__proto__') return undefined
  const type = m.params.fields[field]
  return type !== undefined && asDescriptor(type).kind === 'binary' ? field : undefined
}

/**
 * Serves `service` on `bus` with `impl`.
 * @param bus - a connected bus
 * @param service - the definition from `defineService`
 * @param impl - an object or class instance with one function per method
 * @param options - validation, idempotency cache, logger
 * @returns a handle; `close()` (or `await using`) stops serving
 * @throws InvalidArgumentError when `impl` lacks a method
 */
export async function serve<S extends ServiceDefinition>(
  bus: Bus,
  service: S,
  impl: ServiceImpl<S>,
  options: ServeOptions = {},
): Promise<ServiceServer> {
  if (options.compat === 'rpc-over-redis') {
    const { redis, ...rest } = options.rpcOverRedis ?? {}
    const target = redis ?? redisTargetOf(bus)
    return serveRpcOverRedis(connectionFactory(target), service, impl, {
      logger: options.logger,
      validate: options.validate,
      ...rest,
    })
  } else if (options.compat !== undefined) {
    throw new InvalidArgumentError(
      `unknown compat mode '${String(options.compat)}'; supported: rpc-over-redis`,
    )
  }
  const missing = [...service.methods.keys()].filter(
    (m) => typeof (impl as Record<string, unknown>)[m] !== 'function',
  )
  if (missing.length > 0)
    throw new InvalidArgumentError(`the implementation of ${service.name} lacks ${missing.join(', ')}`)
  const logger = options.logger ?? silentLogger
  const idem = options.idempotency ?? redeliversRequests(bus.transport)
  const cache = idem === false ? undefined : new ReplyCache(idem === true ? {} : idem)
  const check = options.validate !== false
  const handles: Closable[] = []
  // Not on a transport that redelivers requests (Redis): there every method served costs a stream,
  // a consumer group and liveness upkeep, and Redis's round trip dwarfs what the map costs.
  const bytesParams: Record<string, string> = {}
  if (!redeliversRequests(bus.transport))
    for (const m of service.methods.values()) {
      const field = bytesParamsField(m)
      if (field !== undefined) bytesParams[m.name] = field
    }
  const info: SchemaInfo = {
    name: service.name,
    version: service.version,
    fingerprint: service.fingerprint,
    canonical: service.canonical,
    bytesParams,
  }
  try {
    handles.push(await bus.requests.serve(schemaMethod(service.name), () => info))
    for (const m of service.methods.values()) {
      const fn = (impl as Record<string, (p: unknown, c: ServiceContext) => unknown>)[m.name]!.bind(impl)
      const name = methodName(service, m.name)
      handles.push(await bus.requests.serve(name, handlerFor(service, m, fn, check, cache, undefined)))
      const field = bytesParams[m.name]
      if (field !== undefined)
        handles.push(
          await bus.requests.serve(name + BYTES_SUFFIX, handlerFor(service, m, fn, check, cache, field)),
        )
    }
  } catch (err) {
    await Promise.allSettled(handles.map((h) => h.close()))
    throw err
  }
  logger.debug(`rpc-streams: serving ${service.name} ${service.version} (${service.fingerprint})`)
  const close = async (): Promise<void> => {
    await Promise.allSettled(handles.splice(0).map((h) => h.close()))
  }
  return { service, replyCache: cache, close, [Symbol.asyncDispose]: close }
}

function handlerFor(
  service: ServiceDefinition,
  m: MethodDefinition,
  fn: (params: unknown, ctx: ServiceContext) => unknown,
  check: boolean,
  cache: ReplyCache | undefined,
  bytesField: string | undefined,
): (data: unknown, rctx: RequestContext) => unknown {
  // Parameters come from the network: always checked unless the server opted out.
  const checkParams = check ? compileValidator(m.params, service.resolve, 'params') : undefined
  const run = (params: unknown, rctx: RequestContext): unknown => {
    const ctx = new CallContext(service.name, m.name, rctx)
    if (cache && !m.stream) return cache.run(ctx.callId, () => fn(params, ctx))
    return fn(params, ctx)
  }
  if (bytesField === undefined)
    return (data, rctx) => {
      const params = data ?? {}
      checkParams?.(params)
      return run(params, rctx)
    }
  // The bytes method's body is the one field's value: the same object as the map would decode to.
  // Made here (plain, that one key), it is valid exactly when the field is, so the field's check
  // decides; on a failure the whole check runs to throw the same ValidationError (`params.<field>`).
  const fieldType = m.params.fields[bytesField] as Type
  const fieldOk = checkParams ? compileIsValid(fieldType, service.resolve) : undefined
  return (data, rctx) => {
    const params = { [bytesField]: data }
    if (fieldOk !== undefined && !fieldOk(data)) {
      checkParams?.(params)
      throw new ValidationError(`params.${bytesField}`, "does not match the method's parameters")
    }
    return run(params, rctx)
  }
}

/** The context of one call (a class over the core context: one small object per call, fields read on demand). */
class CallContext implements ServiceContext {
  constructor(
    readonly service: string,
    readonly method: string,
    private readonly rctx: RequestContext,
  ) {}

  get caller(): string {
    return this.rctx.sender
  }
  get callerAddress(): string {
    return this.rctx.caller
  }
  get callId(): string {
    return `${this.rctx.caller}#${this.rctx.id}`
  }
  get redelivered(): boolean {
    return this.rctx.redelivered
  }
  get deadline(): number | undefined {
    return this.rctx.deadline
  }
  get signal(): AbortSignal {
    return this.rctx.signal
  }

  remaining(): number {
    const deadline = this.rctx.deadline
    return deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, deadline - Date.now())
  }
}
