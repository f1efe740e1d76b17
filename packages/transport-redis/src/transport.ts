/**
 * The Redis transport: opens the connections, builds the four facilities for the configured wire
 * mode (native, or a compat mode under src/compat/<mode>/), reports connection state and closes
 * everything.
 * @module
 */
import { randomBytes } from 'node:crypto'
import {
  ClosedError,
  InvalidArgumentError,
  type Limits,
  type MapTransport,
  type MessagingTransport,
  type OpenContext,
  type PubSubTransport,
  type QueueTransport,
  type Supports,
  silentLogger,
  type Transport,
} from '@unipc/core/spi'
import { type Client, connectClient, createClient, endClient } from './client.js'
import { createRedisIpcFacilities } from './compat/redis-ipc/index.js'
import type { RedisConfig } from './config.js'
import { BlockingPool, type RedisContext } from './context.js'
import { NativeDurableEvents } from './native/durable.js'
import { NativeMaps } from './native/maps.js'
import { NativeMessaging } from './native/messaging.js'
import { NativePubSub } from './native/pubsub.js'
import { NativeQueues } from './native/queues.js'
import { Publisher } from './publisher.js'
import { Subscriber } from './subscriber.js'
import { TurnBatcher } from './turn.js'

/** The facilities of one wire mode, plus what to do on open and close. */
export interface Facilities {
  readonly queues: QueueTransport
  readonly maps: MapTransport
  readonly pubsub: PubSubTransport
  readonly messaging: MessagingTransport
  readonly supports: Supports
  /** Durable channels, when the mode has them. */
  readonly durable?: NativeDurableEvents
  /** Runs once the connections are up (subscribe the inbox, configure Redis…). */
  open(): Promise<void>
  /** Releases held work before the connections close. */
  close(): Promise<void>
}

/** Builds the native facilities. */
function createNativeFacilities(ctx: RedisContext): Facilities {
  const queues = new NativeQueues(ctx)
  const messaging = new NativeMessaging(ctx)
  return {
    queues,
    maps: new NativeMaps(ctx),
    pubsub: new NativePubSub(ctx),
    messaging,
    durable: new NativeDurableEvents(ctx),
    supports: { redelivery: true, persistence: true, durableEvents: true, crossProcess: true },
    open: () => messaging.open(),
    close: async () => {
      await Promise.allSettled([queues.releaseAll(), messaging.stopAll()])
    },
  }
}

const notOpen = (): never => {
  throw new ClosedError('Redis transport (not open)')
}

/** A unipc transport over Redis (standalone, unix socket, Sentinel or Cluster). */
export class RedisTransport implements Transport {
  readonly name = 'redis'
  readonly limits: Limits
  readonly config: RedisConfig
  readonly #id = `${process.pid.toString(36)}-${randomBytes(6).toString('hex')}`
  readonly #closing = new AbortController()
  readonly #reconnectListeners = new Set<() => void>()
  #facilities: Facilities | undefined
  #cmd: Client | undefined
  #sub: Client | undefined
  #pool: BlockingPool | undefined
  #closed: Promise<void> | undefined

  /** @param config - see `resolveConfig` */
  constructor(config: RedisConfig) {
    this.config = config
    this.limits = { maxPayload: config.maxPayload }
  }

  get supports(): Supports {
    return (
      this.#facilities?.supports ??
      (this.config.compat
        ? { redelivery: false, persistence: true, durableEvents: false, crossProcess: true }
        : { redelivery: true, persistence: true, durableEvents: true, crossProcess: true })
    )
  }

  // The core (and its tracing decorator) keep references to these objects from before open(), so
  // they are stable facades over the facilities of the wire mode, which exist only once open.
  #inboxHandler: ((data: Uint8Array) => void) | undefined
  #f(): Facilities {
    return this.#facilities ?? notOpen()
  }
  readonly queues: QueueTransport = {
    push: (queue, data) => this.#f().queues.push(queue, data),
    consume: (queue, onDelivery, options) => this.#f().queues.consume(queue, onDelivery, options),
    depth: (queue) => {
      const q = this.#f().queues
      return q.depth ? q.depth(queue) : Promise.resolve(0)
    },
  }
  readonly maps: MapTransport = {
    get: (map, key) => this.#f().maps.get(map, key),
    getAll: (map) => this.#f().maps.getAll(map),
    set: (map, entries) => this.#f().maps.set(map, entries),
    delete: (map, keys) => this.#f().maps.delete(map, keys),
    watch: (map, onChange) => this.#f().maps.watch(map, onChange),
  }
  readonly pubsub: PubSubTransport = {
    publish: (channel, data) => this.#f().pubsub.publish(channel, data),
    subscribe: (pattern, onMessage) => this.#f().pubsub.subscribe(pattern, onMessage),
  }
  readonly messaging: MessagingTransport = {
    address: this.#id,
    onMessage: (handler) => {
      this.#inboxHandler = handler
      this.#facilities?.messaging.onMessage(handler)
    },
    send: (to, data) => this.#f().messaging.send(to, data),
    serve: (method, onRequest) => this.#f().messaging.serve(method, onRequest),
    dispatch: (method, data) => this.#f().messaging.dispatch(method, data),
  }

  /** Durable channels (native mode only); see `durableEvents()`. */
  get durable(): NativeDurableEvents {
    const f = this.#f()
    if (!f.durable)
      throw new InvalidArgumentError(
        `durable events are not available in compat mode '${this.config.compat}'`,
      )
    return f.durable
  }

  async open(context: OpenContext): Promise<void> {
    if (this.#closed) throw new ClosedError('open')
    const logger = context.logger ?? silentLogger
    const cmd = createClient(this.config, 'command', `unipc:${this.#id}`)
    const sub = createClient(this.config, 'subscriber', `unipc:${this.#id}:sub`)
    this.#cmd = cmd
    this.#sub = sub
    const pool = new BlockingPool(this.config)
    this.#pool = pool
    let wasReady = false
    cmd.on('error', (err) => logger.debug('unipc: redis connection error', err))
    sub.on('error', (err) => logger.debug('unipc: redis subscriber error', err))
    cmd.on('ready', () => {
      if (wasReady) {
        context.onState('connected')
        for (const l of this.#reconnectListeners) l()
      }
      wasReady = true
    })
    cmd.on('reconnecting', () => {
      if (!this.#closing.signal.aborted)
        context.onState('reconnecting', new Error('lost the Redis connection'))
    })
    try {
      await connectClient(cmd, this.config.target)
      await connectClient(sub, this.config.target)
      const batch = new TurnBatcher(cmd, (err) => logger.error('unipc: a batched Redis write failed', err))
      const ctx: RedisContext = {
        config: this.config,
        cmd,
        batch,
        publisher: new Publisher(cmd, batch, this.config.mode === 'cluster'),
        sub: new Subscriber(sub, logger),
        logger,
        component: context.component,
        id: this.#id,
        closing: this.#closing.signal,
        blocking: (name) => pool.open(name),
        onReconnect: (l) => {
          this.#reconnectListeners.add(l)
          return () => this.#reconnectListeners.delete(l)
        },
      }
      const facilities = this.config.compat ? createRedisIpcFacilities(ctx) : createNativeFacilities(ctx)
      if (this.#inboxHandler) facilities.messaging.onMessage(this.#inboxHandler)
      this.#facilities = facilities
      await facilities.open()
    } catch (err) {
      this.#facilities = undefined
      endClient(cmd)
      endClient(sub)
      pool.closeAll()
      throw err
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort()
      this.#reconnectListeners.clear()
      await this.#facilities?.close().catch(() => {})
      this.#pool?.closeAll()
      if (this.#sub) endClient(this.#sub)
      const cmd = this.#cmd
      if (cmd && cmd.status === 'ready') await cmd.quit().catch(() => endClient(cmd))
      else if (cmd) endClient(cmd)
    })()
    return this.#closed
  }
}
