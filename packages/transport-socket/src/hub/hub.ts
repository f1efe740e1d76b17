/**
 * The hub: a small broker that any process can embed (`startHub`), run standalone (`unipc-hub`) or
 * have auto-started. It holds settings and status, routes events by pattern, keeps command queues
 * and balances requests across servers, for every client on every listener.
 * @module
 */
import { InvalidArgumentError, type Logger, ProtocolError, silentLogger } from '@unipc/core/spi'
import { DEFAULT_MAX_FRAME } from '../wire/frames.js'
import type { WireValue } from '../wire/msgpack.js'
import { Feature, T } from '../wire/protocol.js'
import { type ConnectionHost, HubConnection } from './connection.js'
import { hotFrame } from './hot-frames.js'
import { DEFAULT_OUTBOUND_LIMIT } from './limits.js'
import { type Listener, type ListenOptions, openListener } from './listeners.js'
import { MapBroker } from './maps.js'
import { MessagingBroker } from './messaging.js'
import { PubSubBroker } from './pubsub.js'
import { QueueBroker } from './queues.js'
import { encodeState, loadState, StateFileWriter } from './state-file.js'

export { DEFAULT_OUTBOUND_LIMIT } from './limits.js'

/** Options of {@link startHub}. */
export interface HubOptions extends ListenOptions {
  /**
   * Where to listen: `unix:///path`, `tcp://host:port`, `tls://host:port` (at least one). The
   * `token` option applies to TCP and TLS listeners; a unix listener wants one only with `?token=`.
   */
  readonly listen: readonly string[]
  /** Snapshot settings and pending commands here (write-then-rename) and reload them on start. */
  readonly stateFile?: string
  /** Which maps the state file keeps (default: settings maps, `settings/…`). */
  readonly persistMap?: (map: string) => boolean
  /** Largest frame body accepted and sent, in bytes (default 64 MiB). */
  readonly maxFrame?: number
  /**
   * Bytes that may wait for one slow client. Over it, events for that client are dropped (and
   * counted); over it plus one max frame, the client is disconnected. Default 8 MiB.
   */
  readonly outboundLimit?: number
  /** Where the hub logs (default: silent). */
  readonly logger?: Logger
}

/** Counters for monitoring. */
export interface HubStats {
  readonly connections: number
  /** Events dropped for slow subscribers since start. */
  readonly droppedEvents: number
  /** Messages sent to inboxes that no longer exist. */
  readonly undeliverable: number
  /** Requests routed through the hub since start (requests on direct links never reach it). */
  readonly dispatched: number
  /** Commands queued in the hub since start (commands sent straight to workers never reach it). */
  readonly queued: number
}

/** A running hub. */
export interface Hub extends AsyncDisposable {
  /** The URLs clients can connect to (real ports filled in). */
  readonly urls: readonly string[]
  /** Current counters. */
  stats(): HubStats
  /** Stops listening, disconnects clients and writes a last snapshot. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a hub in this process.
 * @example
 * ```ts
 * const hub = await startHub({ listen: ['unix:///tmp/app.sock', 'tcp://127.0.0.1:7400'], token: 's3cret' })
 * // … connect('unix:///tmp/app.sock') from any process …
 * await hub.close()
 * ```
 * @throws InvalidArgumentError for bad options, HubAlreadyRunningError when the unix path is taken
 */
export async function startHub(options: HubOptions): Promise<Hub> {
  if (!options.listen || options.listen.length === 0)
    throw new InvalidArgumentError('startHub needs at least one listen URL, e.g. unix:///tmp/unipc.sock')
  const core = new HubCore(options)
  try {
    for (const url of options.listen) await core.listen(url)
  } catch (err) {
    await core.close()
    throw err
  }
  return {
    get urls() {
      return core.listeners.map((l) => l.url)
    },
    stats: () => core.stats(),
    close: () => core.close(),
    [Symbol.asyncDispose]: () => core.close(),
  }
}

class HubCore implements ConnectionHost {
  readonly logger: Logger
  readonly maxFrame: number
  readonly outboundLimit: number
  readonly features = Feature.Direct | Feature.Pushed | Feature.Acks | Feature.DirectCommands
  readonly listeners: Listener[] = []
  readonly connections = new Set<HubConnection>()
  readonly queues = new QueueBroker()
  readonly maps = new MapBroker()
  readonly pubsub = new PubSubBroker()
  readonly messaging = new MessagingBroker()
  readonly #state: StateFileWriter | undefined
  /** Every open connection, authenticated or not (close() must end them all). */
  readonly #all = new Set<HubConnection>()
  #droppedBefore = 0
  #nextConn = 1
  #closing: Promise<void> | undefined

  constructor(readonly options: HubOptions) {
    this.logger = options.logger ?? silentLogger
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME
    this.outboundLimit = options.outboundLimit ?? DEFAULT_OUTBOUND_LIMIT
    if (options.stateFile) {
      const persist = options.persistMap ?? ((m: string) => m.startsWith('settings/'))
      const loaded = loadState(options.stateFile)
      this.maps.load(new Map([...loaded.maps].filter(([m]) => persist(m))))
      for (const [q, items] of loaded.queues)
        for (const it of items) this.queues.push(q, it.data, it.redelivered)
      const state = new StateFileWriter(
        options.stateFile,
        () =>
          encodeState({
            maps: [...this.maps.all()].filter(([m]) => persist(m)),
            queues: this.queues.snapshot(),
          }),
        this.logger,
      )
      this.#state = state
      this.maps.onChange = (m) => persist(m) && state.changed()
      this.queues.onChange = () => state.changed()
    }
  }

  async listen(url: string): Promise<void> {
    const l = await openListener(url, this.options, this.logger, (socket, remote, listener) => {
      if (this.#closing) {
        socket.destroy()
        return
      }
      const conn = new HubConnection(
        socket,
        this,
        { token: listener.token, name: listener.endpoint.display },
        remote,
      )
      this.#all.add(conn)
      socket.once('close', () => this.#all.delete(conn))
    })
    this.listeners.push(l)
    this.logger.info(`unipc-hub: listening on ${l.url}`)
  }

  nextId(): number {
    return this.#nextConn++
  }

  attach(conn: HubConnection): void {
    this.connections.add(conn)
    const previous = this.messaging.bind(conn)
    // The same client reconnected before the hub noticed its old connection died: drop the old one.
    if (previous) (previous as HubConnection).close()
    this.logger.debug(`unipc-hub: ${conn.component || conn.address} connected from ${conn.remote}`)
  }

  detach(conn: HubConnection): void {
    this.connections.delete(conn)
    this.#droppedBefore += conn.droppedEvents
    this.queues.dropPeer(conn)
    this.maps.dropPeer(conn)
    this.pubsub.dropPeer(conn)
    this.messaging.dropPeer(conn)
    this.logger.debug(`unipc-hub: ${conn.component || conn.address} disconnected`)
  }

  /** The frames of every command and event, read without the generic decoder (see hot-frames.ts). */
  handleBody(conn: HubConnection, body: Buffer): boolean {
    const f = hotFrame(body)
    if (!f) return false
    switch (f.type) {
      case T.Send:
        this.messaging.send(f.name, f.data)
        return true
      case T.Ack:
        this.queues.ack(conn, f.a, f.b)
        return true
      case T.Publish:
        this.pubsub.publish(f.name, f.data)
        return true
      case T.Enqueue: {
        const rid = f.a
        try {
          this.queues.push(f.name, f.data, false, conn.id)
        } catch (err) {
          if (err instanceof ProtocolError) throw err
          conn.fail(rid, err)
          return true
        }
        conn.pushed(rid)
        return true
      }
    }
    return false
  }

  handle(conn: HubConnection, msg: WireValue[]): void {
    switch (msg[0]) {
      case T.Publish:
        this.pubsub.publish(str(msg, 1), bin(msg, 2))
        return
      case T.Send:
        this.messaging.send(str(msg, 1), bin(msg, 2))
        return
      case T.Dispatch:
        this.#confirmLater(conn, msg, () => this.messaging.dispatch(str(msg, 2), bin(msg, 3)), T.Dispatch)
        return
      case T.Ack:
        this.queues.ack(conn, int(msg, 1), int(msg, 2))
        return
      case T.Acks:
        this.queues.ackMany(conn, int(msg, 1), msg, 2)
        return
      case T.Done:
        this.messaging.done(conn, int(msg, 1))
        return
      case T.Enqueue:
        this.#confirmLater(
          conn,
          msg,
          () => this.queues.push(str(msg, 2), bin(msg, 3), msg[4] === true, conn.id),
          T.Enqueue,
        )
        return
      case T.Release:
        this.queues.release(conn, int(msg, 1), int(msg, 2))
        return
    }
    const rid = int(msg, 1)
    try {
      this.#request(conn, msg)
    } catch (err) {
      if (err instanceof ProtocolError) throw err
      conn.fail(rid, err)
    }
  }

  /** Runs a Dispatch or Enqueue; success is confirmed cumulatively, failure at once. */
  #confirmLater(conn: HubConnection, msg: WireValue[], run: () => void, type: number): void {
    const rid = int(msg, 1)
    try {
      run()
    } catch (err) {
      if (err instanceof ProtocolError) throw err
      conn.fail(rid, err)
      return
    }
    if (type === T.Dispatch) conn.dispatched(rid)
    else conn.pushed(rid)
  }

  #request(conn: HubConnection, msg: WireValue[]): void {
    const rid = msg[1] as number
    switch (msg[0]) {
      case T.Push:
        this.queues.push(str(msg, 2), bin(msg, 3), false, conn.id)
        break
      case T.Consume:
        this.queues.consume(conn, int(msg, 2), str(msg, 3), int(msg, 4), optStr(msg, 5))
        break
      case T.Unconsume:
        this.queues.unconsume(conn, int(msg, 2))
        break
      case T.Get:
        conn.send([T.Value, rid, this.maps.get(str(msg, 2), str(msg, 3)) ?? null])
        return
      case T.GetAll: {
        const flat: WireValue[] = []
        for (const [k, v] of this.maps.getAll(str(msg, 2))) flat.push(k, v)
        conn.send([T.Entries, rid, flat])
        return
      }
      case T.Set: {
        const flat = arr(msg, 3)
        const entries: [string, Uint8Array][] = []
        for (let i = 0; i + 1 < flat.length; i += 2) entries.push([str(flat, i), bin(flat, i + 1)])
        this.maps.set(str(msg, 2), entries)
        break
      }
      case T.Delete:
        this.maps.delete(
          str(msg, 2),
          arr(msg, 3).map((_, i, a) => str(a, i)),
        )
        break
      case T.Watch:
        this.maps.watch(conn, int(msg, 2), str(msg, 3))
        break
      case T.Unwatch:
        this.maps.unwatch(conn, int(msg, 2))
        break
      case T.Subscribe:
        this.pubsub.subscribe(conn, int(msg, 2), str(msg, 3))
        break
      case T.Unsubscribe:
        this.pubsub.unsubscribe(conn, int(msg, 2))
        break
      case T.Serve:
        this.messaging.serve(conn, int(msg, 2), str(msg, 3), optStr(msg, 4))
        break
      case T.Servers:
        conn.send([T.Entries, rid, this.messaging.servers(conn, str(msg, 2))])
        return
      case T.Workers:
        conn.send([
          T.Entries,
          rid,
          this.queues.workers(conn, str(msg, 2)),
          this.queues.backlog(str(msg, 2), conn),
        ])
        return
      case T.Unserve:
        this.messaging.unserve(conn, int(msg, 2))
        break
      default:
        throw new ProtocolError(`unknown frame type ${String(msg[0])}`)
    }
    conn.send([T.Ok, rid])
  }

  stats(): HubStats {
    let dropped = this.#droppedBefore
    for (const c of this.connections) dropped += c.droppedEvents
    return {
      connections: this.connections.size,
      droppedEvents: dropped,
      undeliverable: this.messaging.undeliverable,
      dispatched: this.messaging.dispatched,
      queued: this.queues.queued,
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const c of [...this.#all, ...this.connections]) c.close()
      await Promise.all(this.listeners.map((l) => l.close()))
      if (this.#state) {
        await this.#state.flush()
        this.#state.stop()
      }
      this.logger.info('unipc-hub: stopped')
    })()
    return this.#closing
  }
}

function str(msg: WireValue[], i: number): string {
  const v = msg[i]
  if (typeof v !== 'string')
    throw new ProtocolError(`field ${i} of frame type ${String(msg[0])} must be a string`)
  return v
}

function optStr(msg: WireValue[], i: number): string | null {
  const v = msg[i]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v.length > 1024)
    throw new ProtocolError(`field ${i} of frame type ${String(msg[0])} must be a string or nil`)
  return v
}

function int(msg: WireValue[], i: number): number {
  const v = msg[i]
  if (typeof v !== 'number')
    throw new ProtocolError(`field ${i} of frame type ${String(msg[0])} must be an integer`)
  return v
}

function bin(msg: WireValue[], i: number): Uint8Array {
  const v = msg[i]
  if (!(v instanceof Uint8Array))
    throw new ProtocolError(`field ${i} of frame type ${String(msg[0])} must be binary`)
  return v
}

function arr(msg: WireValue[], i: number): WireValue[] {
  const v = msg[i]
  if (!Array.isArray(v))
    throw new ProtocolError(`field ${i} of frame type ${String(msg[0])} must be an array`)
  return v
}
