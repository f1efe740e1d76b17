/**
 * Reads a Redis transport URL and options into one configuration: where Redis is (standalone,
 * unix socket, Cluster or Sentinel), credentials, TLS, the key prefix, the wire mode and timings.
 * @module
 */
import type { ConnectionOptions } from 'node:tls'
import { InvalidArgumentError } from '@unipc/core/spi'
import type { ClusterOptions, RedisOptions } from 'ioredis'

/** Wire modes besides the native one. */
export type CompatMode = 'redis-ipc'

/** Options of the Redis transport (passed as `connect(url, { transport: { … } })`). */
export interface RedisTransportOptions {
  /** Prefix of every key and channel in native mode (default `unipc:`); lets apps share one Redis. */
  prefix?: string
  /** ACL user name (overrides the URL's). */
  username?: string
  /** ACL password (overrides the URL's). */
  password?: string
  /** TLS options for `rediss://` (CA, client certificate…). */
  tls?: ConnectionOptions
  /** Redis Cluster seed nodes; `true` uses the URL's host and port as the only seed. */
  cluster?: readonly { host: string; port: number }[] | true
  /** Sentinel nodes; the master is looked up by {@link RedisTransportOptions.sentinelName}. */
  sentinels?: readonly { host: string; port: number }[]
  /** Name of the master the sentinels watch (default `mymaster`). */
  sentinelName?: string
  /** Wire compatibility mode: `'redis-ipc'` speaks redis-ipc's keys and JSON (needs the JSON codec). */
  compat?: CompatMode
  /** Milliseconds after which a silent worker or server counts as dead and its work is taken over (default 10 000). */
  workerTtl?: number
  /** Largest payload in bytes (default 64 MiB). */
  maxPayload?: number
  /**
   * ioredis auto-pipelining on the command connection (default false). It batches the commands of
   * one tick into one write, but ioredis keeps only one such batch in flight per connection, so a
   * reply can wait a whole round trip behind an earlier batch: good for bulk publishing, bad for
   * request latency.
   */
  autoPipelining?: boolean
  /** Extra ioredis options merged into every connection (advanced). */
  redisOptions?: RedisOptions
}

/** The resolved configuration. */
export interface RedisConfig {
  readonly mode: 'standalone' | 'cluster' | 'sentinel'
  /** Options of every standalone/sentinel connection (or of each Cluster node). */
  readonly redisOptions: RedisOptions
  readonly clusterNodes: readonly { host: string; port: number }[]
  readonly clusterOptions: ClusterOptions
  readonly prefix: string
  readonly compat: CompatMode | undefined
  readonly workerTtl: number
  readonly maxPayload: number
  readonly autoPipelining: boolean
  /** A printable target for messages (never contains the password). */
  readonly target: string
}

const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

/**
 * Builds the configuration from a URL and options.
 * @param url - `redis://[user:pass@]host:port/db`, `rediss://…`, `redis+unix:///path.sock?db=N`
 * @param options - transport options; query parameters `prefix`, `compat`, `workerTtl`, `maxPayload` and `db` also work
 * @throws InvalidArgumentError on a malformed URL or option
 */
export function resolveConfig(url: URL, options: RedisTransportOptions = {}): RedisConfig {
  const q = url.searchParams
  const base: RedisOptions = {}
  let target: string
  if (url.protocol === 'redis+unix:') {
    const path = decodeURIComponent(url.pathname)
    if (!path || path === '/')
      throw new InvalidArgumentError(`${url.protocol} needs a socket path: redis+unix:///run/redis.sock`)
    base.path = path
    target = path
  } else if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    base.host = url.hostname || '127.0.0.1'
    base.port = url.port ? Number(url.port) : 6379
    target = `${base.host}:${base.port}`
    const dbPath = url.pathname.replace(/^\//, '')
    if (dbPath) base.db = parseIntParam('db', dbPath, 0)
    if (url.protocol === 'rediss:') base.tls = { ...(options.tls ?? {}) }
  } else {
    throw new InvalidArgumentError(
      `not a Redis URL: ${url.protocol} (use redis://, rediss:// or redis+unix://)`,
    )
  }
  if (q.has('db')) base.db = parseIntParam('db', q.get('db') as string, 0)
  if (url.username) base.username = decodeURIComponent(url.username)
  if (url.password) base.password = decodeURIComponent(url.password)
  if (options.username !== undefined) base.username = options.username
  if (options.password !== undefined) base.password = options.password
  const compat = (options.compat ?? q.get('compat') ?? undefined) as string | undefined
  if (compat !== undefined && compat !== 'redis-ipc')
    throw new InvalidArgumentError(`unknown compat mode '${compat}'; supported: redis-ipc`)
  const prefix = options.prefix ?? q.get('prefix') ?? 'unipc:'
  const workerTtl = options.workerTtl ?? parseIntParam('workerTtl', q.get('workerTtl') ?? '10000', 100)
  const maxPayload =
    options.maxPayload ?? parseIntParam('maxPayload', q.get('maxPayload') ?? String(DEFAULT_MAX_PAYLOAD), 1)
  const redisOptions: RedisOptions = { ...base, ...(options.redisOptions ?? {}) }
  let mode: RedisConfig['mode'] = 'standalone'
  let clusterNodes: { host: string; port: number }[] = []
  if (options.cluster) {
    mode = 'cluster'
    clusterNodes =
      options.cluster === true
        ? [{ host: base.host ?? '127.0.0.1', port: base.port ?? 6379 }]
        : [...options.cluster]
    target = `cluster ${clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`
  } else if (options.sentinels) {
    mode = 'sentinel'
    redisOptions.sentinels = [...options.sentinels]
    redisOptions.name = options.sentinelName ?? 'mymaster'
    delete redisOptions.host
    delete redisOptions.port
    target = `sentinel master ${redisOptions.name}`
  }
  const { host: _h, port: _p, path: _path, db: _db, ...nodeOptions } = redisOptions
  return {
    mode,
    redisOptions,
    clusterNodes,
    clusterOptions: { redisOptions: nodeOptions },
    prefix,
    compat: compat as CompatMode | undefined,
    workerTtl,
    maxPayload,
    autoPipelining: options.autoPipelining ?? q.get('autoPipelining') === '1',
    target,
  }
}

function parseIntParam(name: string, raw: string, min: number): number {
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got '${raw}'`)
  return n
}
