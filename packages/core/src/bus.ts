/**
 * The Bus: one connection to a transport and the five facilities over it.
 * @module
 */
import type { BehaviorSubject, Observable } from 'rxjs'
import type { Codec } from './codec.js'
import { Commands } from './commands.js'
import { ClosedError, ConnectionError } from './errors.js'
import { Events } from './events.js'
import { Runtime } from './internal/runtime.js'
import type { Logger } from './logger.js'
import { TracedTransport } from './monitor/traced-transport.js'
import { Requests } from './requests.js'
import { Settings } from './settings.js'
import type { ConnectionState, Transport } from './spi.js'
import { type LivenessOptions, Status } from './status.js'

/** Options that shape a bus (see `connect`). */
export interface BusOptions {
  /** This process's component name; needed to handle commands and publish status. */
  readonly component: string | undefined
  readonly codec: Codec
  readonly logger: Logger
  /** Default timeout of commands and requests in ms. */
  readonly timeout: number
  /** Largest payload this bus sends, in bytes (capped by the transport's own limit). */
  readonly maxPayload: number
  /** How long close() waits for running handlers, in ms. */
  readonly drainTimeout: number
  readonly liveness: LivenessOptions | false
  /** Include stacks in errors sent to callers. */
  readonly sendErrorStacks: boolean
}

/**
 * A connection to a unipc transport with the five facilities. Create it with `connect()`; release
 * it with `close()` or `await using`.
 */
export class Bus implements AsyncDisposable {
  /** Send commands to components and handle this component's commands. */
  readonly commands: Commands
  /** Per-component key/value configuration. */
  readonly settings: Settings
  /** Per-component published state with liveness. */
  readonly status: Status
  /** Publish/subscribe with patterns. */
  readonly events: Events
  /** RPC with timeouts, cancellation, remote errors and streams. */
  readonly requests: Requests
  /** The transport carrying this bus. */
  readonly transport: Transport
  /** This bus's component, if it has one. */
  readonly component: string | undefined

  readonly #state: BehaviorSubject<ConnectionState>
  readonly #rt: Runtime
  /** The transport as the facilities see it: traced for monitors, listed in the directory. */
  readonly #traced: TracedTransport
  #closing: Promise<void> | undefined

  /** @internal Use `connect()`. */
  constructor(transport: Transport, options: BusOptions, state: BehaviorSubject<ConnectionState>) {
    this.transport = transport
    this.component = options.component
    this.#state = state
    this.#traced = new TracedTransport(transport, options.component, options.codec, options.logger)
    this.#rt = new Runtime(this.#traced, {
      component: options.component,
      codec: options.codec,
      logger: options.logger,
      defaultTimeout: options.timeout,
      maxPayload: options.maxPayload,
      drainTimeout: options.drainTimeout,
      sendErrorStacks: options.sendErrorStacks,
    })
    this.commands = new Commands(this.#rt)
    this.settings = new Settings(this.#rt)
    this.status = new Status(this.#rt, options.liveness)
    this.events = new Events(this.#rt)
    this.requests = new Requests(this.#rt)
  }

  /** Connection state: `connecting`, `connected`, `reconnecting` or `closed` (current value first). */
  get state$(): Observable<ConnectionState> {
    return this.#state.asObservable()
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state.value
  }

  /** This bus's inbox address on its transport (for diagnostics). */
  get address(): string {
    return this.transport.messaging.address
  }

  /** True once `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined
  }

  /** @internal Called by connect() when the transport reports it lost its link: calls in flight fail. */
  linkLost(cause: Error | undefined): void {
    this.#rt.failCalls(
      new ConnectionError(
        `the link to the ${this.transport.name} transport was lost while waiting for a reply${cause ? `: ${cause.message}` : ''}`,
        { cause },
      ),
    )
  }

  /** @internal Called by connect() once the transport is open. */
  async start(): Promise<void> {
    await this.#traced.start()
    await this.status.startHeartbeat()
  }

  /**
   * Closes the bus: stops workers, servers and subscriptions, lets running handlers finish (up to
   * `drainTimeout`), rejects calls still waiting with ClosedError, marks the component offline and
   * closes the transport. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.status.stopHeartbeat()
      await this.#rt.shutdown()
      try {
        await this.#traced.close()
      } finally {
        this.#rt.failCalls(new ClosedError('call'))
        if (this.#state.value !== 'closed') this.#state.next('closed')
        this.#state.complete()
      }
    })()
    return this.#closing
  }

  /** Same as `close()`, for `await using bus = await connect(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
