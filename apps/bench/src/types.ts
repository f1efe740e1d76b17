/**
 * The adapter contract: what one benchmarked system (a unipc transport, a baseline or a peer library)
 * provides. The harness owns processes, timing, flow control of fan-out, statistics and reports; an
 * adapter only opens the roles of a scenario (an echo server, a caller, a publisher…) with its own
 * library. See README "Adding a system".
 * @module
 */

/** The scenarios, in the order the report shows them. */
export const SCENARIOS = ['rtt', 'throughput', 'fanout', 'stream', 'large', 'queue'] as const

/** One scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number]

/** What kind of link a system uses; ratios compare a system with the baseline of the same link. */
export type Link = 'memory' | 'unix' | 'tcp' | 'redis-unix' | 'redis-tcp' | 'shm' | 'ipc'

/** Where a system stands in the report. */
export type Group = 'unipc' | 'baseline' | 'peer'

/** Something a role opened and the harness closes after the run. */
export interface Closable {
  close(): Promise<void> | void
}

/** A request/reply client (rtt, throughput, large) or a command sender (queue). */
export interface Caller extends Closable {
  /** Sends `payload` and resolves when the reply (echo, or the worker's acknowledgement) arrived. */
  call(payload: Uint8Array): Promise<unknown>
  /**
   * The same call without the layer under test, over the same connections in the same processes
   * (e.g. raw `bus.requests.call` under a typed client). When present, the driver alternates the
   * two in 100 ms slices and reports both, so a layer's overhead is measured free of the load that
   * drifts between separate runs.
   */
  readonly baseline?: Caller
}

/** The publishing side of fan-out. The harness paces it (a credit window against the slowest subscriber). */
export interface Publisher extends Closable {
  /** Publishes one event to every subscriber. May return a promise (awaited with a bounded number in flight). */
  publish(payload: Uint8Array): void | Promise<void>
}

/** Receives one event's bytes (fan-out and stream). Must be called with the payload as published. */
export type OnEvent = (payload: Uint8Array) => void

/** Where a role runs: its index among processes of the same role, and the scenario. */
export interface RoleContext {
  /** 0-based index among the processes of this role (e.g. subscriber 2 of 4). */
  readonly index: number
  /** How many processes play this role. */
  readonly count: number
  /** The scenario being measured. */
  readonly scenario: ScenarioName
  /** A unique id of this run (use it to keep names of queues, channels, sockets apart). */
  readonly runId: string
}

/**
 * The roles a system can open. Each scenario needs two of them:
 * - rtt, throughput, large: `echoServer` (1 process) + `caller` (1 process, driven by the harness);
 * - fanout: `subscriber` (4 processes) + `publisher` (1 process);
 * - stream: `streamServer` (1 process) + `streamClient` (1 process);
 * - queue: `worker` (4 processes) + `sender` (1 process, 64 commands in flight).
 * Every function runs in its own OS process (unless the system is `inProcess`); load the library
 * with `await import()` inside it, so a missing package only makes this system n/a.
 */
export interface Roles<C> {
  /** Serves requests: replies to each with the same bytes. */
  echoServer?(config: C, ctx: RoleContext): Promise<Closable>
  /** Opens a client of `echoServer`. */
  caller?(config: C, ctx: RoleContext): Promise<Caller>
  /** Subscribes; calls `onEvent` for every event. Resolves once events published afterwards arrive. */
  subscriber?(config: C, ctx: RoleContext, onEvent: OnEvent): Promise<Closable>
  /** Opens the publisher. Started before the subscribers (so a system whose publisher listens works). */
  publisher?(config: C, ctx: RoleContext): Promise<Publisher>
  /** Serves a stream: sends `payload` again and again to each client, as fast as its flow control allows. */
  streamServer?(config: C, ctx: RoleContext, payload: Uint8Array): Promise<Closable>
  /** Opens a stream from `streamServer` and calls `onEvent` for each item until closed. */
  streamClient?(config: C, ctx: RoleContext, onEvent: OnEvent): Promise<Closable>
  /** Takes commands from the shared queue and acknowledges each (an empty reply). */
  worker?(config: C, ctx: RoleContext): Promise<Closable>
  /** Opens a command sender; `call` resolves when a worker has acknowledged the command. */
  sender?(config: C, ctx: RoleContext): Promise<Caller>
}

/** What `setup` may use: temp dirs, free ports, servers; everything registered is stopped at the end. */
export interface SetupEnv {
  /** A fresh temp dir, removed at the end of the run. */
  tempDir(): string
  /** A free TCP port on 127.0.0.1 (never 6379). */
  freePort(): Promise<number>
  /** The first of `n` consecutive free TCP ports on 127.0.0.1 (none of them 6379). */
  freePortRange(n: number): Promise<number>
  /** A redis-server of its own (unix socket and TCP port), stopped at the end of the run. */
  redis(): Promise<{ port: number; socket: string }>
  /** Runs a .ts file in a child process; resolves when it prints a line matching `ready`. */
  spawnService(file: string, args: string[], ready: RegExp): Promise<{ stop(): Promise<void> }>
  /** Registers cleanup work run at the end of the whole benchmark run. */
  onTeardown(fn: () => Promise<void> | void): void
}

/** A benchmarked system: metadata, an optional one-time setup, and its roles. */
export interface System<C = unknown> extends Roles<C> {
  /** Unique name shown in the table, e.g. `net-msgpack unix`. Letters, digits, spaces, `-`, `/`. */
  readonly name: string
  readonly group: Group
  readonly link: Link
  /** One line for the report: what exactly is measured. */
  readonly description: string
  /** For each scenario: `true` when supported, or the reason it is not (shown as n/a). Missing: "not implemented". */
  readonly scenarios: Partial<Record<ScenarioName, true | string>>
  /** All roles run in one process (the memory transport, which cannot cross processes). */
  readonly inProcess?: boolean
  /** npm packages whose versions the report lists. */
  readonly packages?: readonly string[]
  /**
   * The system this one is compared with run by run (a layer over it, e.g. typed services over a
   * transport): in every repetition it runs right after that system, so the pair sees the same load.
   */
  readonly pairedWith?: string
  /**
   * Runs once in the harness process before this system's first cell (start a broker, check that
   * the package loads). Throwing makes every cell of the system n/a with the error's message.
   * The returned config is passed (as JSON) to every role.
   */
  setup?(env: SetupEnv): Promise<C>
  /**
   * Imports the system's libraries in a role process before its roles open. All processes of a run
   * start at once and preload in parallel, which keeps the time between runs short.
   */
  preload?(config: C): Promise<unknown>
}
