/**
 * Native key and channel names. Everything starts with the configured prefix (default `unipc:`).
 * Keys used together by one script share a Redis Cluster hash tag (`{…}`), so they live in one
 * slot. See docs/protocol/redis.md.
 * @module
 */

/** Key names of one command queue. */
export interface QueueKeys {
  /** The list commands wait in: `<p>q:{<queue>}`. */
  readonly list: string
  /** The set of worker ids consuming it: `<p>q:{<queue>}:workers`. */
  readonly workers: string
  /** Base for per-worker keys (`…:proc:<id>` list, `…:hb:<id>` heartbeat): `<p>q:{<queue>}`. */
  readonly base: string
}

/** Keys of a command queue. */
export function queueKeys(prefix: string, queue: string): QueueKeys {
  const base = `${prefix}q:{${queue}}`
  return { list: base, workers: `${base}:workers`, base }
}

/** The processing list of one worker. */
export function procKey(keys: QueueKeys, worker: string): string {
  return `${keys.base}:proc:${worker}`
}

/** The heartbeat key of one worker (expires when the worker stops beating). */
export function heartbeatKey(keys: QueueKeys, worker: string): string {
  return `${keys.base}:hb:${worker}`
}

/** The hash of a map and the channel its changes are published on (same name). */
export function mapKey(prefix: string, map: string): string {
  return `${prefix}map:${map}`
}

/** The Redis channel of an event channel. */
export function eventChannel(prefix: string, channel: string): string {
  return `${prefix}ev:${channel}`
}

/** The channel of a bus's inbox. */
export function inboxChannel(prefix: string, address: string): string {
  return `${prefix}inbox:${address}`
}

/** Keys of one request method: its stream, its registry of live servers and their liveness key. */
export interface MethodKeys {
  /** Stream of requests `<p>rq:{<method>}` with consumer group `servers`. */
  readonly stream: string
  /** Sorted set of live server consumers, scored by expiry (ms): `<p>rq:{<method>}:servers`. */
  readonly servers: string
  /**
   * `<p>rq:{<method>}:alive`: the number of live servers, expiring with the last of them (kept by
   * the register scripts), so a dispatch checks liveness with a GET instead of a script.
   */
  readonly alive: string
}

/** Keys of a request method. */
export function methodKeys(prefix: string, method: string): MethodKeys {
  const stream = `${prefix}rq:{${method}}`
  return { stream, servers: `${stream}:servers`, alive: `${stream}:alive` }
}

/** The consumer group every server of a method joins. */
export const SERVER_GROUP = 'servers'

/** Escapes Redis glob metacharacters so a literal matches only itself in PSUBSCRIBE. */
export function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\]^]/g, (c) => `\\${c}`)
}

/**
 * Translates a core pattern (`a.*`, `a.>`, `cam*.x`) into a Redis glob matching a superset of it:
 * `*` and `>` both become `*` (which also crosses dots); the core filters exactly afterwards.
 */
export function patternToGlob(pattern: string): string {
  return pattern
    .split('.')
    .map((t) => (t === '>' ? '*' : t.split('*').map(escapeGlob).join('*')))
    .join('.')
}
