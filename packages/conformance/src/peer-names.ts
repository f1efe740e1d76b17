/**
 * The names a peer process serves under, derived from a unique prefix so that cases never meet
 * each other's peers. Shared by the peer script and the cases that talk to it.
 * @module
 */

/** The line a peer prints on stdout once it serves everything. */
export const PEER_READY = 'unipc-peer ready'

/** Every name a peer with `prefix` uses. */
export interface PeerNames {
  /** The peer's component: its command worker's queue and its status. */
  readonly component: string
  /** Returns its argument. */
  readonly echo: string
  /** Throws `PeerFailure` (code `E_PEER`) with its argument as data. */
  readonly fail: string
  /** Waits `ms` (its argument) or until cancelled; publishes on `aborted` when cancelled. */
  readonly slow: string
  /** Publishes on `holding`, then never answers. */
  readonly hold: string
  /** Streams `{ count, delayMs }` items; publishes on `cancelled` when cancelled. */
  readonly stream: string
  /** Publishes `{ channel, data }`. */
  readonly publish: string
  /** Merges its argument into the peer's status. */
  readonly status: string
  /** Replies, then exits the process with its argument as exit code. */
  readonly exit: string
  /** Channel the peer publishes on when a slow call or stream is cancelled. */
  readonly aborted: string
  /** Channel the peer publishes on when a stream is cancelled. */
  readonly cancelled: string
  /** Channel the peer publishes on when it holds a call or a command without answering. */
  readonly holding: string
}

/** The names of the peer with `prefix`. */
export function peerNames(prefix: string): PeerNames {
  return {
    component: prefix,
    echo: `${prefix}-echo`,
    fail: `${prefix}-fail`,
    slow: `${prefix}-slow`,
    hold: `${prefix}-hold`,
    stream: `${prefix}-stream`,
    publish: `${prefix}-publish`,
    status: `${prefix}-status`,
    exit: `${prefix}-exit`,
    aborted: `${prefix}.aborted`,
    cancelled: `${prefix}.cancelled`,
    holding: `${prefix}.holding`,
  }
}
