/**
 * redis-ipc settings and status: hashes `settings.<component>` and `status.<component>` holding
 * string values (a JSON string is stored as its text, other JSON values as their JSON text), and
 * change notification through keyspace events (`CONFIG SET notify-keyspace-events Kh`, then
 * SUBSCRIBE `__keyspace@<db>__:<hash>`), like the C library. A keyspace event says only that the
 * hash changed, so a watcher re-reads it and reports the fields that differ. The core's heartbeat
 * field `$alive` is stored as readable JSON (`{"at":…,"ttl":…}`). Other maps use native keys.
 * @module
 */
import { ALIVE_KEY, type Closable, type MapChangeListener, type MapTransport } from '@unipc/core/spi'
import { Packr } from 'msgpackr'
import type { RedisContext } from '../../context.js'
import { redisCall } from '../../errors.js'
import type { NativeMaps } from '../../native/maps.js'
import { compatHash, parsePayload } from './wire.js'

const packr = new Packr({ useRecords: false })
const encoder = new TextEncoder()

/** Core value bytes (JSON, or the msgpack heartbeat) → the string stored in the hash. */
export function toStored(field: string, value: Uint8Array): string {
  if (field === ALIVE_KEY) return JSON.stringify(packr.unpack(value))
  const v = parsePayload(value, `value of '${field}'`)
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** The string stored in the hash → core value bytes: JSON text as is, any other text as a JSON string. */
export function fromStored(field: string, stored: string): Uint8Array {
  if (field === ALIVE_KEY) {
    try {
      return packr.pack(JSON.parse(stored))
    } catch {
      return packr.pack(null)
    }
  }
  try {
    JSON.parse(stored)
    return encoder.encode(stored)
  } catch {
    return encoder.encode(JSON.stringify(stored))
  }
}

/** The redis-ipc map facility. */
export class RedisIpcMaps implements MapTransport {
  #keyspaceReady: Promise<void> | undefined

  constructor(
    private readonly ctx: RedisContext,
    private readonly native: NativeMaps,
  ) {}

  async get(map: string, key: string): Promise<Uint8Array | undefined> {
    const hash = compatHash(map)
    if (!hash) return this.native.get(map, key)
    const v = await redisCall(`reading ${hash}`, () => this.ctx.cmd.hget(hash, key))
    return v === null ? undefined : fromStored(key, v)
  }

  async getAll(map: string): Promise<Map<string, Uint8Array>> {
    const hash = compatHash(map)
    if (!hash) return this.native.getAll(map)
    return this.#read(hash)
  }

  async #read(hash: string): Promise<Map<string, Uint8Array>> {
    const all = await redisCall(`reading ${hash}`, () => this.ctx.cmd.hgetall(hash))
    return new Map(Object.entries(all).map(([k, v]) => [k, fromStored(k, v)]))
  }

  async set(map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const hash = compatHash(map)
    if (!hash) return this.native.set(map, entries)
    const flat: string[] = []
    for (const [k, v] of entries) flat.push(k, toStored(k, v))
    if (flat.length > 0) await redisCall(`writing ${hash}`, () => this.ctx.cmd.hset(hash, ...flat))
  }

  async delete(map: string, keys: readonly string[]): Promise<void> {
    const hash = compatHash(map)
    if (!hash) return this.native.delete(map, keys)
    if (keys.length > 0) await redisCall(`deleting from ${hash}`, () => this.ctx.cmd.hdel(hash, ...keys))
  }

  async watch(map: string, onChange: MapChangeListener): Promise<Closable> {
    const hash = compatHash(map)
    if (!hash) return this.native.watch(map, onChange)
    await this.#enableKeyspaceEvents()
    let known = new Map<string, Uint8Array>()
    let refreshing = Promise.resolve()
    let closed = false
    const refresh = (): void => {
      // Serialized, so two quick changes are diffed in order.
      refreshing = refreshing.then(async () => {
        if (closed) return
        const now = await this.#read(hash).catch(() => undefined)
        if (!now || closed) return
        for (const [k, v] of now) if (!sameBytes(known.get(k), v)) onChange(k, v)
        for (const k of known.keys()) if (!now.has(k)) onChange(k, undefined)
        known = now
      })
    }
    const db = this.ctx.config.redisOptions.db ?? 0
    const remove = await this.ctx.sub.subscribe(`__keyspace@${db}__:${hash}`, refresh)
    known = await this.#read(hash)
    return {
      close: async () => {
        closed = true
        await remove()
      },
    }
  }

  /** Turns on keyspace events for hashes (`K` + `h`), keeping flags already set; once per transport. */
  #enableKeyspaceEvents(): Promise<void> {
    this.#keyspaceReady ??= (async () => {
      try {
        const current = ((await this.ctx.cmd.config('GET', 'notify-keyspace-events')) as string[])[1] ?? ''
        const hasHash = current.includes('h') || current.includes('A')
        if (current.includes('K') && hasHash) return
        const flags = new Set([...current, 'K', ...(hasHash ? [] : ['h'])])
        await this.ctx.cmd.config('SET', 'notify-keyspace-events', [...flags].join(''))
      } catch (err) {
        this.ctx.logger.warn(
          'unipc: cannot enable keyspace events (CONFIG SET notify-keyspace-events Kh); settings and status watches need them',
          err,
        )
      }
    })()
    return this.#keyspaceReady
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0
}
