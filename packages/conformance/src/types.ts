/**
 * The options and test API of the conformance suite.
 * @module
 */
import type { ChildProcess } from 'node:child_process'
import type { Bus, ConnectOptions, Supports } from '@unipc/core'
import type { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

/**
 * The test functions the suite registers its cases with. Pass vitest's own, so the suite runs inside
 * the caller's test run: `runConformance({ describe, it, expect, beforeAll, afterAll, beforeEach, afterEach }, …)`.
 * vitest is only a type here: the suite never imports it.
 */
export interface TestApi {
  readonly describe: typeof describe
  readonly it: typeof it
  readonly expect: typeof expect
  readonly beforeAll: typeof beforeAll
  readonly afterAll: typeof afterAll
  readonly beforeEach: typeof beforeEach
  readonly afterEach: typeof afterEach
}

/** Starts the peer script in another OS process; must pipe stdin and stdout. */
export type PeerSpawn = (script: string, args: string[]) => ChildProcess

/** How cross-process cases reach a peer process. */
export interface PeerOptions {
  /**
   * The URL the peer connects to (the same world, hub or broker as `connect`). A function is
   * called when a case starts, so a URL known only after `beforeAll` works.
   */
  readonly url: string | (() => string)
  /**
   * Starts `script` with `args` in a child process (default: {@link defaultSpawn}, which runs
   * `node --conditions=source --import tsx` from sources, or plain node on the built peer).
   */
  readonly spawn?: PeerSpawn
  /**
   * Modules the peer imports before it connects (absolute paths or package names), e.g. one that
   * calls `registerTransport('nats', createTransport)` for a scheme core does not know.
   */
  readonly preload?: readonly string[]
  /** Milliseconds to wait for the peer to report ready (default 20 000). */
  readonly startTimeout?: number
}

/** Sizes and timing knobs; defaults suit a loaded 2-core CI machine. */
export interface ConformanceKnobs {
  /** Per-case timeout in ms (default 20 000). */
  readonly timeout: number
  /** How long a case waits for an expected message before failing, in ms (default 5 000). */
  readonly waitTimeout: number
  /** Size of the large payload cases, in bytes (default 8 MiB). */
  readonly largePayload: number
  /** How many calls the concurrency case makes at once (default 200). */
  readonly concurrentCalls: number
  /** Heartbeat interval of buses in liveness cases, in ms (default 100; offline after 3 intervals). */
  readonly livenessInterval: number
}

/** Options of {@link runConformance}. */
export interface ConformanceOptions extends Partial<ConformanceKnobs> {
  /** The transport's name in test titles and the conformance matrix, e.g. `memory` or `socket-unix`. */
  readonly name: string
  /**
   * Opens a new bus on the transport under test. Every bus of one run must reach the same world
   * (hub, broker, segment), so that buses opened by one case see each other.
   */
  readonly connect: (options: ConnectOptions) => Promise<Bus>
  /**
   * Overrides of the transport's `supports` manifest. When all four flags are given the suite does
   * not open a probe bus at collection time (needed when the server only starts in `beforeAll`).
   */
  readonly supports?: Partial<Supports>
  /** Lets cross-process cases start a peer; without it they are skipped with a reason. */
  readonly peer?: PeerOptions
  /**
   * Restarts the server or broker every bus of the run talks to (keeping its state files), and
   * resolves once it accepts connections again. Enables the restart cases (reconnecting, and with
   * `persistence` settings and queued commands surviving); without it they are skipped.
   */
  readonly restart?: () => Promise<void>
}
