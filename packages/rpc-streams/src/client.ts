/**
 * `createClient(bus, service)`: a typed object with one function per method. Unary methods return
 * promises; streaming methods return UnipcObservables (rxjs, also `for await`-able) whose
 * unsubscribe/break/abort cancels the call on the server. Parameters are validated before sending
 * and results on arrival; declared errors come back as their classes.
 * @module
 */
// Imported: the global Buffer is a getter in ES modules, and a call may read it.
import { Buffer } from 'node:buffer'
import {
  type Bus,
  type CallOptions,
  InvalidArgumentError,
  type Logger,
  NoHandlerError,
  type StreamOptions,
  silentLogger,
  UnipcObservable,
} from '@unipc/core'
import type { Subscription } from 'rxjs'
import { createRpcOverRedisClient, type RpcOverRedisClientOptions } from './compat/rpc-over-redis/client.js'
import { connectionFactory, type RedisTarget, redisTargetOf } from './compat/rpc-over-redis/connection.js'
import { reviveError } from './remote-errors.js'
import { type SchemaCheckResult, SchemaGate, type SchemaMode } from './schema/gate.js'
import { BYTES_SUFFIX, bytesParamsField, methodName } from './server.js'
import type { MethodDefinition, MethodSpec, ParamsOf, ResultOf, ServiceDefinition } from './service.js'
import { compileValidator } from './types/compile.js'

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Default timeout of unary calls in ms (default: the bus timeout). Streams have none unless given per call. */
  readonly timeout?: number
  /** Schema check on first use: `strict` (default) fails calls to incompatible methods, `lenient` warns, `off` skips. */
  readonly schema?: SchemaMode
  /** Validate parameters before sending and results on arrival (default true). */
  readonly validate?: boolean
  /** Default item window of streams (items in flight; default the core's: 8192 items, within its 512 KiB byte window). */
  readonly window?: number
  /** Where to log schema notes and warnings (default silent). */
  readonly logger?: Logger
  /**
   * `'rpc-over-redis'`: call a server that speaks the Python rpc-over-redis wire format (the bus must be
   * on the Redis transport, or give `rpcOverRedis.redis`). Unary methods only; `$close()` releases it.
   */
  readonly compat?: 'rpc-over-redis'
  /** Options of the rpc-over-redis mode (its schema check defaults to lenient, like the Python client). */
  readonly rpcOverRedis?: RpcOverRedisClientOptions & { readonly redis?: RedisTarget }
}

type Args<S extends MethodSpec, O> =
  {} extends ParamsOf<S> ? [params?: ParamsOf<S>, options?: O] : [params: ParamsOf<S>, options?: O]

/** The client function of one method. */
export type ClientMethod<S extends MethodSpec> = S['stream'] extends true
  ? (...args: Args<S, StreamOptions>) => UnipcObservable<ResultOf<S>>
  : (...args: Args<S, CallOptions>) => Promise<ResultOf<S>>

/** Members every client has besides its methods (`$`-prefixed: method names cannot start with `$`). */
export interface ClientExtras {
  /** The service definition. */
  readonly $service: ServiceDefinition
  /** Runs the schema check now (strict mode throws SchemaMismatchError on any incompatible difference). */
  $checkSchema(): Promise<SchemaCheckResult | undefined>
  /** Releases what the client holds (the connections of rpc-over-redis mode; nothing for native clients). */
  $close(): Promise<void>
}

/** A typed client of a service. */
export type ServiceClient<S extends ServiceDefinition> = {
  readonly [K in keyof S['spec']]: ClientMethod<S['spec'][K]>
} & ClientExtras

/**
 * Creates a typed client.
 * @param bus - a connected bus
 * @param service - the definition from `defineService`
 * @param options - timeout, schema mode, validation, stream window, logger
 * @example
 * const students = createClient(bus, Students)
 * const s = await students.get({ id: '42' })
 * for await (const s of students.list({ limit: 10 })) console.log(s.name)
 */
export function createClient<S extends ServiceDefinition>(
  bus: Bus,
  service: S,
  options: ClientOptions = {},
): ServiceClient<S> {
  if (options.compat === 'rpc-over-redis') {
    const { redis, ...rest } = options.rpcOverRedis ?? {}
    return createRpcOverRedisClient(connectionFactory(redis ?? redisTargetOf(bus)), service, {
      timeout: options.timeout,
      validate: options.validate,
      logger: options.logger,
      ...rest,
    })
  } else if (options.compat !== undefined) {
    throw new InvalidArgumentError(
      `unknown compat mode '${String(options.compat)}'; supported: rpc-over-redis`,
    )
  }
  const logger = options.logger ?? silentLogger
  const gate = new SchemaGate(bus, service, options.schema ?? 'strict', logger, options.timeout)
  const client: Record<string, unknown> = {
    $service: service,
    async $checkSchema() {
      const result = await gate.check()
      gate.assertAll()
      return result
    },
    async $close() {},
  }
  const check = options.validate !== false
  for (const m of service.methods.values()) {
    const ctx: MethodContext = { bus, service, m, gate, check, name: methodName(service, m.name) }
    client[m.name] = m.stream ? streamMethod(ctx, options.window) : unaryMethod(ctx, options.timeout)
  }
  return Object.freeze(client) as ServiceClient<S>
}

/** What the function of one method needs. */
interface MethodContext {
  readonly bus: Bus
  readonly service: ServiceDefinition
  readonly m: MethodDefinition
  readonly gate: SchemaGate
  /** Validate params and results. */
  readonly check: boolean
  /** The core method name. */
  readonly name: string
}

/** The options of calls made without any (shared: nothing writes to a call's options). */
const NO_OPTIONS: CallOptions = Object.freeze({})

function unaryMethod(
  { bus, service, m, gate, check, name }: MethodContext,
  timeout: number | undefined,
): (params?: unknown, options?: CallOptions) => Promise<unknown> {
  // Everything a call needs is built here, once per method: a call allocates nothing of its own
  // beyond the core call.
  const checkParams = check ? compileValidator(m.params, service.resolve, 'params') : undefined
  const checkResult = check ? compileValidator(m.result, service.resolve, 'result') : undefined
  const onResult = checkResult
    ? (result: unknown): unknown => {
        checkResult(result)
        return result
      }
    : undefined
  // Without declared errors, reviveError returns every error unchanged.
  const onError = m.errors.size > 0 ? (err: Error): Error => reviveError(err, m, service) as Error : undefined
  const defaults: CallOptions = timeout === undefined ? NO_OPTIONS : { timeout }
  const requests = bus.requests
  // The result check and error revival run inside the core call: one promise per call, no `then`.
  const send =
    onResult || onError
      ? (params: unknown, callOptions: CallOptions): Promise<unknown> =>
          requests.callMapped(name, params, callOptions, onResult, onError)
      : (params: unknown, callOptions: CallOptions): Promise<unknown> =>
          requests.call(name, params, callOptions)
  // Where the server takes the parameters' one binary field alone (see BYTES_SUFFIX): learnt from
  // the schema check (null until then), undefined when it does not or after its NoHandlerError.
  let bytesField: string | undefined | null = null
  // The same field when this client's own parameters are that one binary field too and the check
  // found nothing incompatible: then a call whose parameters `bareBytes` takes is valid as it is
  // (a plain object, that one key, bytes there: what the compiled check would pass), so it goes
  // out before anything else runs. Undefined otherwise.
  let fastField: string | undefined
  const ownField = bytesParamsField(m)
  const bytesName = name + BYTES_SUFFIX
  // A call to the bytes method. With no server of it left (those still running are older, e.g.
  // in a rolling deploy) the call goes again as a map (nothing ran: safe to resend, with the
  // call's whole timeout again) and so do later ones. A failure closure per bytes call: the retry
  // needs that call's bytes and options.
  const sendBytes = (field: string, bytes: Uint8Array, callOptions: CallOptions): Promise<unknown> =>
    requests.callMapped(bytesName, bytes, callOptions, onResult, (err: Error): Error | Promise<unknown> => {
      if (err instanceof NoHandlerError) {
        bytesField = undefined
        fastField = undefined
        return send({ [field]: bytes }, callOptions)
      }
      return onError ? onError(err) : err
    })
  // The first call waits for the schema check, within its own timeout and signal.
  const admitThenSend = async (params: unknown, callOptions: CallOptions): Promise<unknown> => {
    const started = Date.now()
    await gate.admitWithin(m.name, callOptions.timeout, callOptions.signal)
    const left =
      callOptions.timeout === undefined
        ? callOptions
        : { ...callOptions, timeout: Math.max(1, callOptions.timeout - (Date.now() - started)) }
    return send(params, left)
  }
  return (params = {}, options) => {
    const callOptions =
      options === undefined ? defaults : timeout === undefined ? options : { timeout, ...options }
    if (fastField !== undefined) {
      const bytes = bareBytes(params, fastField)
      if (bytes !== undefined) return sendBytes(fastField, bytes, callOptions)
    }
    try {
      checkParams?.(params)
      // `clear` (one field) is the common case: checked, nothing incompatible.
      if (!gate.clear) {
        if (!gate.settled) return admitThenSend(params, callOptions)
        gate.assert(m.name)
      }
    } catch (err) {
      return Promise.reject(err)
    }
    if (bytesField === null) {
      // Known once a check has answered (or for good when checks are off).
      if (!gate.settled) return send(params, callOptions)
      bytesField = gate.bytesField(m.name)
      // (`clear` stays once a check has set it: no later check runs.)
      if (gate.clear && bytesField !== undefined && bytesField === ownField) fastField = bytesField
    }
    const bytes = bytesField === undefined ? undefined : bareBytes(params, bytesField)
    if (bytes !== undefined) return sendBytes(bytesField as string, bytes, callOptions)
    return send(params, callOptions)
  }
}

/**
 * The value of `params` when it is a plain object with `field` as its one key and bytes (a
 * Uint8Array or a Buffer) there: what the server's bytes method takes alone; undefined otherwise.
 */
function bareBytes(params: unknown, field: string): Uint8Array | undefined {
  if (typeof params !== 'object' || params === null || Object.getPrototypeOf(params) !== Object.prototype)
    return undefined
  let n = 0
  for (const key in params) if (key !== field || ++n > 1) return undefined
  // (A field that is not enumerable is not sent in a map either.)
  if (n !== 1) return undefined
  const v = (params as Record<string, unknown>)[field]
  if (!(v instanceof Uint8Array)) return undefined
  return v.constructor === Uint8Array || v.constructor === Buffer ? v : undefined
}

function streamMethod(
  { bus, service, m, gate, check, name }: MethodContext,
  window: number | undefined,
): (params?: unknown, options?: StreamOptions) => UnipcObservable<unknown> {
  const checkParams = check ? compileValidator(m.params, service.resolve, 'params') : undefined
  const checkItem = check ? compileValidator(m.result, service.resolve, 'item') : () => {}
  return (params = {}, options = {}) => {
    const opts = window === undefined ? options : { window, ...options }
    // Each subscription (or loop) checks the parameters first and errors without calling the server.
    const open = (): UnipcObservable<unknown> => {
      checkParams?.(params)
      return bus.requests.stream(name, params, opts)
    }
    return new UnipcObservable<unknown>(
      (subscriber) => {
        let inner: Subscription | undefined
        let closed = false
        const start = (): void => {
          if (closed) return
          let source: UnipcObservable<unknown>
          try {
            source = open()
          } catch (err) {
            subscriber.error(err)
            return
          }
          inner = source.subscribe({
            next: (item) => {
              try {
                checkItem(item)
              } catch (err) {
                inner?.unsubscribe()
                subscriber.error(err)
                return
              }
              subscriber.next(item)
            },
            error: (err) => subscriber.error(reviveError(err, m, service)),
            complete: () => subscriber.complete(),
          })
        }
        if (gate.settled) {
          try {
            gate.assert(m.name)
          } catch (err) {
            subscriber.error(err)
            return
          }
          start()
        } else {
          gate.admit(m.name).then(start, (err) => subscriber.error(err))
        }
        return () => {
          closed = true
          inner?.unsubscribe()
        }
      },
      () => pullItems(open, gate, m, service, checkItem),
    )
  }
}

/** A `for await` iterator over a stream: credit is granted only as items are pulled (core's iterator). */
function pullItems(
  open: () => UnipcObservable<unknown>,
  gate: SchemaGate,
  m: MethodDefinition,
  service: ServiceDefinition,
  checkItem: (item: unknown) => void,
): AsyncIterator<unknown> {
  let inner: AsyncIterator<unknown> | undefined
  let finished = false
  const innerIterator = async (): Promise<AsyncIterator<unknown>> => {
    if (!inner) {
      await gate.admit(m.name)
      inner = open()[Symbol.asyncIterator]()
    }
    return inner
  }
  return {
    async next() {
      if (finished) return { value: undefined, done: true }
      let r: IteratorResult<unknown>
      let it: AsyncIterator<unknown>
      try {
        it = await innerIterator()
        r = await it.next()
      } catch (err) {
        finished = true
        throw reviveError(err, m, service)
      }
      if (r.done) {
        finished = true
        return r
      }
      try {
        checkItem(r.value)
      } catch (err) {
        finished = true
        await it.return?.()
        throw err
      }
      return r
    },
    async return() {
      finished = true
      await inner?.return?.()
      return { value: undefined, done: true }
    },
  }
}
