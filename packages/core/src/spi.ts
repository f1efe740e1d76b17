/**
 * The transport SPI: the few primitives a transport provides and the core composes into the five
 * facilities. Payloads at this level are opaque bytes (already encoded by the core), so a transport
 * never sees application values and never needs the codec.
 *
 * A transport implements four small per-facility interfaces plus a lifecycle:
 * - {@link QueueTransport}: durable FIFO queues with acknowledgement (commands);
 * - {@link MapTransport}: key/value maps with change notification (settings, status, liveness);
 * - {@link PubSubTransport}: publish/subscribe with patterns (events);
 * - {@link MessagingTransport}: an addressable inbox per bus and load-balanced dispatch to servers
 *   (requests, replies, streams, cancellation).
 *
 * Everything else (timeouts, codecs, errors, watch-emits-current-first, streaming, flow control,
 * cancellation, liveness) is written once in the core. See README "Implementing a transport".
 * @module
 */
import type { Logger } from './logger.js'

/** A handle on something that can be stopped: a subscription, a consumer, a server. */
export interface Closable {
  /** Stops delivery. Idempotent. */
  close(): Promise<void>
}

/** Connection states reported by a transport and surfaced as `bus.state$`. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** What a transport can do beyond the baseline; conformance skips cases for absent features. */
export interface Supports {
  /** Commands taken by a worker that dies before acknowledging are delivered again, flagged `redelivered`. */
  readonly redelivery: boolean
  /** Settings and queued commands survive a restart of the server or broker. */
  readonly persistence: boolean
  /** Events can be published to a durable log and replayed from a remembered position. */
  readonly durableEvents: boolean
  /** Buses of this transport live in different OS processes (false for `memory:`). */
  readonly crossProcess: boolean
  /**
   * Each delivered byte array (a request, reply, command or inbox message) belongs to its receiver
   * alone: the transport never writes to it again, reuses its memory, or hands it to anyone else.
   * The core may then give the application views into it instead of copies (large binary bodies of
   * calls). Leave it unset when deliveries are views of memory the transport reuses (a ring).
   */
  readonly ownedDeliveries?: boolean
  /**
   * `send` and `dispatch` also take a message as a list of parts ({@link BytesOrParts}) whose
   * concatenation is the message, so the core need not copy a large body into a fresh frame. The
   * core does it for the body of a request, reply or stream item of 64 KiB or more: it hands over
   * `[frame start, body bytes, frame end]` (the end may be missing). The body bytes may be the
   * application's own Buffer or Uint8Array: a transport only reads parts (never writes to or keeps
   * them after it wrote or copied them out), e.g. writes them with one gathering syscall (socket
   * writev) or copies each straight into its own memory (a shared-memory slab). Without this flag a
   * transport always receives one Uint8Array, as before. The wire bytes are the same either way.
   * A transport that sets it declares the `data` parameter of both methods as {@link BytesOrParts}.
   */
  readonly gatherWrites?: boolean
}

/**
 * A message handed to `send` or `dispatch`: one byte array, or, only for a transport that declares
 * {@link Supports.gatherWrites}, a list of parts to be read in order as if concatenated.
 */
export type BytesOrParts = Uint8Array | readonly Uint8Array[]

/** Limits a transport enforces; the core checks them before sending so callers get a clear error. */
export interface Limits {
  /** Largest encoded payload, in bytes, the transport carries in one message. */
  readonly maxPayload: number
}

/** What the core hands a transport when it opens it. */
export interface OpenContext {
  /** The component name of this bus, if any (e.g. `camera`). */
  readonly component: string | undefined
  /** Where the transport logs; silent unless the application injected a logger. */
  readonly logger: Logger
  /** The transport reports connection state changes here (reconnecting, connected, closed). */
  readonly onState: (state: ConnectionState, cause?: Error) => void
}

/** One message handed to a consumer: its bytes, whether it was delivered before, and how to acknowledge it. */
export interface Delivery {
  /** The message as it was pushed. */
  readonly data: Uint8Array
  /** True when a previous consumer took this message and did not acknowledge it (it died). */
  readonly redelivered: boolean
  /** Removes the message for good; call after the work (and any reply) is done. Idempotent. */
  ack(): void
}

/** Options for consuming a queue. */
export interface ConsumeOptions {
  /** Most unacknowledged deliveries this consumer holds at once; others go to other consumers. */
  readonly concurrency: number
}

/**
 * Durable FIFO queues for commands. One consumer receives each message; a message waits in the
 * queue until some consumer exists. Order is FIFO per queue (redelivered messages may come later).
 */
export interface QueueTransport {
  /** Appends a message to the queue `queue`. Resolves once the transport has accepted it. */
  push(queue: string, data: Uint8Array): Promise<void>
  /** Starts consuming `queue`; `onDelivery` is called for each message, at most `concurrency` unacked at once. */
  consume(queue: string, onDelivery: (delivery: Delivery) => void, options: ConsumeOptions): Promise<Closable>
  /**
   * Optional: how many messages wait in `queue` (not yet taken by a consumer). Tools such as
   * `unipc ls` show it when the transport provides it.
   */
  depth?(queue: string): Promise<number>
}

/** A change to one key of a map: the new value, or `undefined` when the key was deleted. */
export type MapChangeListener = (key: string, value: Uint8Array | undefined) => void

/**
 * Key/value maps with change notification, for settings, status and liveness. Map names are opaque
 * strings chosen by the core (e.g. `settings/camera`); keys are strings; values are bytes.
 * A change made through one bus is seen by watchers on every bus, including the writer's.
 */
export interface MapTransport {
  /** Reads one key. */
  get(map: string, key: string): Promise<Uint8Array | undefined>
  /** Reads every key of a map (an empty Map when it does not exist). */
  getAll(map: string): Promise<Map<string, Uint8Array>>
  /** Writes several keys at once (atomically where the transport can), then notifies watchers per key. */
  set(map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void>
  /** Deletes keys, then notifies watchers with `undefined` for each key that existed. */
  delete(map: string, keys: readonly string[]): Promise<void>
  /** Calls `onChange` for every later change to the map. Resolves once the watch is active. */
  watch(map: string, onChange: MapChangeListener): Promise<Closable>
}

/** Receives one published message; `channel` is the concrete channel it was published on. */
export type MessageListener = (channel: string, data: Uint8Array) => void

/**
 * Live publish/subscribe. Patterns use the core's syntax (see `matchChannel`): `*` is one dot-separated
 * token and `>` one or more trailing tokens. A transport may deliver a superset of the matching
 * channels (e.g. through a broader native glob): the core filters again. Delivery is at-most-once.
 */
export interface PubSubTransport {
  /** Publishes to every current subscriber whose pattern matches. */
  publish(channel: string, data: Uint8Array): Promise<void> | void
  /** Subscribes; resolves once messages published afterwards are guaranteed to arrive. */
  subscribe(pattern: string, onMessage: MessageListener): Promise<Closable>
}

/**
 * Point-to-point messaging for requests and replies. Every open transport has an `address`; any bus
 * can `send` bytes to an address. `serve` registers this bus as one server of a method; `dispatch`
 * hands a message to exactly one of the method's servers (load-balanced), and fails with
 * `NoHandlerError` when there is none.
 */
export interface MessagingTransport {
  /** This bus's inbox address, valid after `open`. */
  readonly address: string
  /** Installs the single receiver of messages sent to `address` (called once by the core). */
  onMessage(handler: (data: Uint8Array) => void): void
  /**
   * Sends to an inbox. Fails with ConnectionError when the transport knows the address is gone.
   * A transport that declares {@link Supports.gatherWrites} also takes parts here: it declares
   * `data: BytesOrParts`.
   */
  send(to: string, data: Uint8Array): Promise<void> | void
  /** Registers as a server of `method`. Each dispatched message arrives as a {@link Delivery}; ack it when done. */
  serve(method: string, onRequest: (delivery: Delivery) => void): Promise<Closable>
  /**
   * Hands `data` to one server of `method`; rejects with NoHandlerError when there is none.
   * A transport that declares {@link Supports.gatherWrites} also takes parts here (see `send`).
   */
  dispatch(method: string, data: Uint8Array): Promise<void> | void
}

/**
 * The messaging of a transport that declares {@link Supports.gatherWrites}: `send` and `dispatch`
 * take {@link BytesOrParts}. (The core calls every transport through this type, and hands parts
 * only to those that declare the flag.)
 */
export interface GatheringMessaging extends MessagingTransport {
  send(to: string, data: BytesOrParts): Promise<void> | void
  dispatch(method: string, data: BytesOrParts): Promise<void> | void
}

/** A transport: a lifecycle, a manifest, limits and the four facility primitives. */
export interface Transport {
  /** A short name for diagnostics, e.g. `memory`, `socket`, `redis`, `shm`. */
  readonly name: string
  /** Optional features this transport has. */
  readonly supports: Supports
  /** Limits the core enforces before sending. */
  readonly limits: Limits
  /** Connects; after it resolves every primitive below is usable. */
  open(context: OpenContext): Promise<void>
  /** Releases every resource; pending transport operations reject. Idempotent. */
  close(): Promise<void>
  /** Command queues. */
  readonly queues: QueueTransport
  /** Key/value maps. */
  readonly maps: MapTransport
  /** Publish/subscribe. */
  readonly pubsub: PubSubTransport
  /** Inboxes and dispatch. */
  readonly messaging: MessagingTransport
}

/** Options a transport factory receives from `connect()`. Transports read their own keys. */
export interface TransportFactoryOptions {
  /** Anything the application passed under `transport` in connect options (TLS files, sizes, tokens…). */
  readonly [key: string]: unknown
}

/**
 * What a transport package exports as `createTransport`: builds a transport for a URL. The core
 * imports the package by scheme and calls this; it does not open the transport.
 */
export type TransportFactory = (url: URL, options: TransportFactoryOptions) => Transport | Promise<Transport>
