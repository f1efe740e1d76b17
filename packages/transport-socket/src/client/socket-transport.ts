/**
 * The client side of the socket transport: implements the SPI over one link to a hub, remembers
 * every consumer, watch, subscription and server, and restores them after reconnecting (with
 * exponential backoff and jitter) so the application never notices more than `bus.state$`.
 * @module
 */
import { randomBytes } from 'node:crypto'
import {
  type BytesOrParts,
  type Closable,
  ClosedError,
  ConnectionError,
  type ConsumeOptions,
  type Delivery,
  type GatheringMessaging,
  isCallerControl,
  type Limits,
  type Logger,
  lostCallReply,
  type MapChangeListener,
  type MessageListener,
  type OpenContext,
  type Supports,
  silentLogger,
  type Transport,
} from '@unipc/core/spi'
import type { Endpoint } from '../endpoint.js'
import type { HubConnection } from '../hub/connection.js'
import type { WireValue } from '../wire/msgpack.js'
import { payloadOf } from '../wire/parts.js'
import { Feature, T } from '../wire/protocol.js'
import { connectOrStart } from './autostart.js'
import { ConsumerGate, type GatedDelivery } from './consumer-gate.js'
import { CommandRouter } from './direct-commands.js'
import { DirectRouter } from './direct-router.js'
import { DirectServer } from './direct-server.js'
import { Link } from './link.js'

/** Reconnect timing. */
export interface ReconnectOptions {
  /** First delay in ms (default 50). */
  readonly initialDelay: number
  /** Longest delay in ms (default 5 000). */
  readonly maxDelay: number
}

type Registration =
  | { kind: 'consume'; queue: string; concurrency: number; gate: ConsumerGate }
  | { kind: 'watch'; map: string; onChange: MapChangeListener }
  | { kind: 'subscribe'; pattern: string; onMessage: MessageListener }
  | { kind: 'serve'; method: string; onRequest: (d: Delivery) => void }

/** A request that arrived on a direct link: acknowledging it tells the caller it is `Done`. */
class DirectDelivery implements Delivery {
  readonly redelivered = false
  #acked = false
  constructor(
    readonly conn: HubConnection,
    readonly tag: number,
    readonly data: Uint8Array,
  ) {}

  ack(): void {
    if (this.#acked) return
    this.#acked = true
    this.conn.done(this.tag)
  }
}

/** A command a sender handed straight to this worker: acknowledging it tells the sender it is `Done`. */
class DirectCommand implements GatedDelivery {
  #acked = false
  constructor(
    readonly conn: HubConnection,
    readonly gate: ConsumerGate,
    readonly tag: number,
    readonly redelivered: boolean,
    readonly data: Uint8Array,
  ) {}

  get void(): boolean {
    return this.conn.closed
  }

  giveBack(): void {
    this.conn.send([T.Bounce, this.tag])
  }

  ack(): void {
    if (this.#acked) return
    this.#acked = true
    this.gate.done()
    this.conn.done(this.tag)
  }
}

/** A command delivered by the hub: acknowledging it tells the hub (unless the link it came on is gone). */
class QueueDelivery implements GatedDelivery {
  #acked = false
  constructor(
    readonly link: Link,
    readonly gate: ConsumerGate,
    readonly consumerId: number,
    readonly tag: number,
    readonly redelivered: boolean,
    readonly data: Uint8Array,
  ) {}

  get void(): boolean {
    return this.link.closed
  }

  giveBack(): void {
    if (!this.link.closed) this.link.post([T.Release, this.consumerId, this.tag])
  }

  ack(): void {
    if (this.#acked) return
    this.#acked = true
    this.gate.done()
    // After a reconnect the hub has already requeued this delivery: the old tag means nothing.
    // (A link is never reused: once replaced it is closed.)
    this.link.ack(this.consumerId, this.tag)
  }
}

/** A transport speaking to a hub over a unix, TCP or TLS socket. */
export class SocketTransport implements Transport {
  readonly name = 'socket'
  readonly supports: Supports = {
    redelivery: true,
    persistence: true,
    durableEvents: false,
    crossProcess: true,
    // Every frame read from a socket lands in memory of its own (wire/reader.ts): nothing reuses it.
    ownedDeliveries: true,
    // A large call body comes in parts and leaves in one writev with the frame around it (wire/parts.ts).
    gatherWrites: true,
  }
  readonly limits: Limits
  readonly #endpoint: Endpoint
  readonly #reconnect: ReconnectOptions
  readonly #regs = new Map<number, Registration>()
  #nextReg = 1
  #link: Link | undefined
  #context: OpenContext | undefined
  #inbox: (data: Uint8Array) => void = () => {}
  #closed = false
  #retryTimer: NodeJS.Timeout | undefined
  #logger: Logger = silentLogger
  /** Routes requests straight to servers (see direct-router.ts). */
  #router: DirectRouter | undefined
  /** Sends commands straight to workers (see direct-commands.ts), with hubs that introduce them. */
  #commands: CommandRouter | undefined
  /** This bus's direct listener, opened with its first server (undefined: none, hub path only). */
  #direct: Promise<DirectServer | undefined> | undefined
  /** The same once open. */
  #listening: DirectServer | undefined
  /** The options object given to the constructor: `direct: false` turns the direct path off. */
  readonly #useDirect: boolean

  /** This bus's inbox address: random, kept across reconnects. */
  readonly address = `c-${randomBytes(9).toString('base64url')}`

  /** @param endpoint - where the hub is; @param reconnect - backoff timing */
  constructor(endpoint: Endpoint, reconnect: Partial<ReconnectOptions> = {}, direct = true) {
    this.#endpoint = endpoint
    this.#useDirect = direct
    this.#reconnect = { initialDelay: reconnect.initialDelay ?? 50, maxDelay: reconnect.maxDelay ?? 5000 }
    // Room for the frame header (type, ids, names) around the payload.
    this.limits = { maxPayload: endpoint.maxFrame - 64 * 1024 }
  }

  async open(context: OpenContext): Promise<void> {
    if (this.#closed) throw new ClosedError('open')
    this.#context = context
    this.#logger = context.logger
    const attempt = (): Promise<Link> => this.#dial()
    this.#link =
      this.#endpoint.kind === 'unix' && this.#endpoint.autostart
        ? await connectOrStart(this.#endpoint.path, attempt, this.#logger)
        : await attempt()
    if (this.#useDirect) this.#router = this.#newRouter()
    if (this.#router && (this.#link.features & Feature.DirectCommands) !== 0)
      this.#commands = this.#newCommands(this.#router)
  }

  #newCommands(router: DirectRouter): CommandRouter {
    const commands = new CommandRouter({
      logger: this.#logger,
      workers: async (queue) => {
        const msg = await this.#live().request(T.Workers, queue)
        return { flat: msg[2] as WireValue[], backlog: typeof msg[3] === 'number' ? msg[3] : 0 }
      },
      hubPush: (queue, data, redelivered) => this.#live().push(queue, data, redelivered),
      hubUp: () => this.#link !== undefined,
      link: (address, url) => router.linkTo(address, url),
      unreachable: (url) => router.unreachable(url),
      links: () => router.links(),
    })
    router.commands = commands
    return commands
  }

  #newRouter(): DirectRouter {
    return new DirectRouter({
      logger: this.#logger,
      address: this.address,
      component: this.#context?.component,
      endpoint: this.#endpoint,
      servers: async (method) => (await this.#live().request(T.Servers, method))[2] as WireValue[],
      hubDispatch: (method, data) => {
        try {
          return this.#live().dispatch(method, data)
        } catch (err) {
          return Promise.reject(err)
        }
      },
      hubSend: (to, data) => this.#live().post([T.Send, to, data]),
      inbox: (data) => this.#inbox(data),
    })
  }

  /** Opens the direct listener once (when the hub can introduce callers or senders to it). */
  #directServer(link: Link, feature: number = Feature.Direct): Promise<DirectServer | undefined> {
    if (!this.#useDirect || (link.features & feature) === 0) return Promise.resolve(undefined)
    this.#direct ??= DirectServer.open(this.#endpoint, link.socket.localAddress, {
      logger: this.#logger,
      request: (conn, serverId, tag, data) => {
        const r = this.#regs.get(serverId)
        if (r?.kind !== 'serve') {
          // Stopped serving while the request travelled: the caller re-routes it through the hub.
          conn.send([T.Bounce, tag])
          return
        }
        r.onRequest(new DirectDelivery(conn, tag, data))
      },
      command: (conn, consumerId, tag, redelivered, data) => {
        const r = this.#regs.get(consumerId)
        if (r?.kind !== 'consume') {
          // Stopped consuming while the command travelled: its sender hands it to another worker.
          conn.send([T.Bounce, tag])
          return
        }
        r.gate.offer(new DirectCommand(conn, r.gate, tag, redelivered, data))
      },
      message: (data) => this.#inbox(data),
    }).then(
      (d) => {
        this.#listening = d
        return d
      },
      (err) => {
        this.#logger.warn(
          'unipc: could not open a direct listener; requests to this bus go through the hub',
          err,
        )
        return undefined
      },
    )
    return this.#direct
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#retryTimer)
    // Commands this sender still holds go to the hub before its link closes.
    await this.#commands?.close()
    this.#link?.close()
    this.#link = undefined
    this.#regs.clear()
    this.#router?.close()
    await (await this.#direct)?.close()
    this.#context?.onState('closed')
  }

  #dial(): Promise<Link> {
    return Link.open(this.#endpoint, this.address, this.#context?.component, {
      onFrame: (msg) => {
        try {
          this.#onFrame(msg)
        } catch (err) {
          // A throwing listener must not break the link for everything else.
          this.#logger.error('unipc: a socket transport listener threw', err)
        }
      },
      onMessage: (data) => {
        try {
          this.#inbox(data)
        } catch (err) {
          this.#logger.error('unipc: a socket transport listener threw', err)
        }
      },
      onDeliver: (id, tag, redelivered, data) => {
        try {
          this.#onDeliver(id, tag, redelivered, data)
        } catch (err) {
          this.#logger.error('unipc: a socket transport listener threw', err)
        }
      },
      onClose: (cause) => this.#onLost(cause),
    })
  }

  #onLost(cause: Error): void {
    this.#link = undefined
    this.#router?.hubLost()
    if (this.#closed) return
    this.#logger.warn(`unipc: lost the hub at ${this.#endpoint.display}; reconnecting`, cause)
    this.#context?.onState('reconnecting', cause)
    this.#scheduleRetry(0)
  }

  #scheduleRetry(attempt: number): void {
    const { initialDelay, maxDelay } = this.#reconnect
    const base = Math.min(maxDelay, initialDelay * 2 ** attempt)
    const delay = base / 2 + Math.random() * base
    this.#retryTimer = setTimeout(() => void this.#retry(attempt), delay)
    this.#retryTimer.unref?.()
  }

  async #retry(attempt: number): Promise<void> {
    if (this.#closed) return
    let link: Link
    try {
      link = await this.#dial()
    } catch (err) {
      this.#logger.debug(`unipc: reconnect attempt ${attempt + 1} failed`, err)
      this.#scheduleRetry(attempt + 1)
      return
    }
    if (this.#closed) {
      link.close()
      return
    }
    this.#link = link
    try {
      await this.#restore(link)
    } catch (err) {
      this.#logger.warn('unipc: could not restore handlers after reconnecting; retrying', err)
      link.close()
      this.#onLost(err as Error)
      return
    }
    this.#commands?.hubBack()
    this.#logger.info(`unipc: reconnected to the hub at ${this.#endpoint.display}`)
    this.#context?.onState('connected')
  }

  /** Re-registers everything on a new link; watches also replay current values they may have missed. */
  async #restore(link: Link): Promise<void> {
    const work: Promise<unknown>[] = []
    for (const [id, r] of this.#regs) {
      switch (r.kind) {
        case 'consume':
          work.push(this.#consume(link, id, r.queue, r.concurrency))
          break
        case 'watch':
          work.push(
            link.request(T.Watch, id, r.map).then(() =>
              link.request(T.GetAll, r.map).then((msg) => {
                const flat = msg[2] as WireValue[]
                for (let i = 0; i + 1 < flat.length; i += 2)
                  r.onChange(flat[i] as string, flat[i + 1] as Uint8Array)
              }),
            ),
          )
          break
        case 'subscribe':
          work.push(link.request(T.Subscribe, id, r.pattern))
          break
        case 'serve':
          work.push(this.#directServer(link).then((d) => link.request(T.Serve, id, r.method, d?.url ?? null)))
          break
      }
    }
    await Promise.all(work)
  }

  /** Registers consumer `id` on `link`, with this bus's direct listener when the hub introduces workers. */
  async #consume(link: Link, id: number, queue: string, concurrency: number): Promise<unknown> {
    if ((link.features & Feature.DirectCommands) === 0) return link.request(T.Consume, id, queue, concurrency)
    const direct = await this.#directServer(link, Feature.DirectCommands)
    return link.request(T.Consume, id, queue, concurrency, direct?.url ?? null)
  }

  #live(): Link {
    const link = this.#link
    if (link) return link
    if (this.#closed) throw new ClosedError('socket transport')
    throw new ConnectionError(`not connected to the hub at ${this.#endpoint.display} (reconnecting)`)
  }

  async #register(
    reg: Registration,
    request: (link: Link, id: number) => Promise<unknown>,
    undo: number,
  ): Promise<Closable> {
    const link = this.#live()
    const id = this.#nextReg++
    this.#regs.set(id, reg)
    try {
      await request(link, id)
    } catch (err) {
      this.#regs.delete(id)
      throw err
    }
    return {
      close: async () => {
        if (!this.#regs.delete(id)) return
        const l = this.#link
        const stopped = l?.request(undo, id).catch(() => {})
        // Deliveries still waiting for a turn go back (after the hub heard the consumer stop).
        if (reg.kind === 'consume') reg.gate.stop()
        await stopped
      },
    }
  }

  #onFrame(msg: WireValue[]): void {
    switch (msg[0]) {
      case T.Message:
        this.#inbox(msg[1] as Uint8Array)
        return
      case T.Members:
        this.#router?.members(msg[1] as string, msg[2] as WireValue[])
        return
      case T.Crew:
        this.#commands?.crew(msg[1] as string, msg[2] as WireValue[])
        return
      case T.Request: {
        const r = this.#regs.get(msg[1] as number)
        const tag = msg[2] as number
        const link = this.#link
        if (r?.kind !== 'serve') {
          // This server stopped serving while the request was on its way: fail the call now
          // rather than let the caller wait for its timeout.
          const lost = lostCallReply(msg[3] as Uint8Array, 'the server stopped serving the method')
          if (lost) link?.post([T.Send, lost.to, lost.frame])
          link?.post([T.Done, tag])
          return
        }
        let done = false
        r.onRequest({
          data: msg[3] as Uint8Array,
          redelivered: false,
          ack: () => {
            if (done) return
            done = true
            if (link && link === this.#link && !link.closed) link.post([T.Done, tag])
          },
        })
        return
      }
      case T.Event: {
        const r = this.#regs.get(msg[1] as number)
        if (r?.kind === 'subscribe') r.onMessage(msg[2] as string, msg[3] as Uint8Array)
        return
      }
      case T.Change: {
        const r = this.#regs.get(msg[1] as number)
        if (r?.kind === 'watch') r.onChange(msg[2] as string, (msg[3] as Uint8Array | null) ?? undefined)
        return
      }
      case T.Deliver:
        this.#onDeliver(msg[1] as number, msg[2] as number, msg[3] === true, msg[4] as Uint8Array)
        return
      default:
        this.#logger.debug(`unipc: ignored frame type ${String(msg[0])} from the hub`)
    }
  }

  #onDeliver(id: number, tag: number, redelivered: boolean, data: Uint8Array): void {
    const r = this.#regs.get(id)
    const link = this.#link
    if (!link) return
    if (r?.kind !== 'consume') {
      // The consumer stopped before this delivery arrived: hand it back for the next worker.
      link.post([T.Release, id, tag])
      return
    }
    r.gate.offer(new QueueDelivery(link, r.gate, id, tag, redelivered, data))
  }

  readonly queues = {
    // Not async: the link's confirmation promise is the only one a command costs here.
    push: (queue: string, data: Uint8Array): Promise<void> => {
      if (this.#commands) return this.#commands.push(queue, data)
      try {
        return this.#live().push(queue, data) as Promise<void>
      } catch (err) {
        return Promise.reject(err)
      }
    },
    consume: (queue: string, onDelivery: (d: Delivery) => void, options: ConsumeOptions): Promise<Closable> =>
      this.#register(
        {
          kind: 'consume',
          queue,
          concurrency: options.concurrency,
          gate: new ConsumerGate(Math.max(1, options.concurrency), onDelivery),
        },
        (link, id) => this.#consume(link, id, queue, options.concurrency),
        T.Unconsume,
      ),
  }

  readonly maps = {
    get: async (map: string, key: string): Promise<Uint8Array | undefined> => {
      const msg = await this.#live().request(T.Get, map, key)
      return (msg[2] as Uint8Array | null) ?? undefined
    },
    getAll: async (map: string): Promise<Map<string, Uint8Array>> => {
      const msg = await this.#live().request(T.GetAll, map)
      const flat = msg[2] as WireValue[]
      const out = new Map<string, Uint8Array>()
      for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, flat[i + 1] as Uint8Array)
      return out
    },
    set: async (map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> => {
      const flat: WireValue[] = []
      for (const [k, v] of entries) flat.push(k, v)
      await this.#live().request(T.Set, map, flat)
    },
    delete: async (map: string, keys: readonly string[]): Promise<void> => {
      await this.#live().request(T.Delete, map, [...keys])
    },
    watch: (map: string, onChange: MapChangeListener): Promise<Closable> =>
      this.#register(
        { kind: 'watch', map, onChange },
        (link, id) => link.request(T.Watch, id, map),
        T.Unwatch,
      ),
  }

  readonly pubsub = {
    publish: (channel: string, data: Uint8Array): void => {
      this.#live().post([T.Publish, channel, data])
    },
    subscribe: (pattern: string, onMessage: MessageListener): Promise<Closable> =>
      this.#register(
        { kind: 'subscribe', pattern, onMessage },
        (link, id) => link.request(T.Subscribe, id, pattern),
        T.Unsubscribe,
      ),
  }

  readonly messaging: GatheringMessaging = {
    address: this.address,
    onMessage: (handler: (data: Uint8Array) => void): void => {
      this.#inbox = handler
    },
    send: (to: string, bytes: BytesOrParts): void => {
      const data = payloadOf(bytes)
      // A frame follows the path of the request it belongs to: replies go back on the caller's
      // direct link to us, Cancel/Credit on our direct link to the server; else through the hub.
      if (data instanceof Uint8Array && isCallerControl(data)) {
        if (this.#router?.send(to, data)) return
      } else if (this.#listening) {
        const conn = this.#listening.linkFrom(to)
        if (conn) {
          conn.send([T.Message, data])
          return
        }
      }
      this.#live().post([T.Send, to, data])
    },
    serve: (method: string, onRequest: (d: Delivery) => void): Promise<Closable> =>
      this.#register(
        { kind: 'serve', method, onRequest },
        async (link, id) => {
          const direct = await this.#directServer(link)
          return link.request(T.Serve, id, method, direct?.url ?? null)
        },
        T.Unserve,
      ),
    // Not async: one promise per request is enough (a throw here is a synchronous ConnectionError).
    dispatch: (method: string, bytes: BytesOrParts): Promise<void> | undefined => {
      const data = payloadOf(bytes)
      const link = this.#live()
      if (this.#router && (link.features & Feature.Direct) !== 0) return this.#router.dispatch(method, data)
      return link.dispatch(method, data)
    },
  }
}
