/**
 * Maps (settings, status) as Redis hashes. Every write runs as one script that changes the hash
 * and PUBLISHes one notification per key on a channel named like the hash, so watchers see every
 * change in the order Redis applied it: `s<len>:<key><value>` for a set, `d<len>:<key>` for a delete.
 * @module
 */
import type { Closable, MapChangeListener, MapTransport } from '@unipc/core/spi'
import { toBuffer } from '../bytes.js'
import type { RedisContext } from '../context.js'
import { redisCall } from '../errors.js'
import { mapKey } from './keys.js'
import { withScripts } from './scripts.js'

/** The native map facility. */
export class NativeMaps implements MapTransport {
  constructor(private readonly ctx: RedisContext) {}

  async get(map: string, key: string): Promise<Uint8Array | undefined> {
    const v = await redisCall(`reading ${map}`, () =>
      this.ctx.cmd.hgetBuffer(mapKey(this.ctx.config.prefix, map), key),
    )
    return v ?? undefined
  }

  async getAll(map: string): Promise<Map<string, Uint8Array>> {
    const all = await redisCall(`reading ${map}`, () =>
      this.ctx.cmd.hgetallBuffer(mapKey(this.ctx.config.prefix, map)),
    )
    return new Map(Object.entries(all))
  }

  async set(map: string, entries: ReadonlyMap<string, Uint8Array>): Promise<void> {
    if (entries.size === 0) return
    const key = mapKey(this.ctx.config.prefix, map)
    const kv: (string | Buffer)[] = []
    for (const [k, v] of entries) kv.push(k, toBuffer(v))
    await redisCall(`writing ${map}`, () => withScripts(this.ctx.cmd).unipcMapSet(key, key, ...kv))
  }

  async delete(map: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    const key = mapKey(this.ctx.config.prefix, map)
    await redisCall(`deleting from ${map}`, () => withScripts(this.ctx.cmd).unipcMapDelete(key, key, ...keys))
  }

  async watch(map: string, onChange: MapChangeListener): Promise<Closable> {
    const key = mapKey(this.ctx.config.prefix, map)
    // Keys known to exist, so a resync after a reconnect can also report keys deleted meanwhile.
    const known = new Set<string>()
    const remove = await this.ctx.sub.subscribe(key, (_channel, message) => {
      const change = parseChange(message)
      if (!change) {
        this.ctx.logger.warn(`unipc: ignored a malformed change notification on ${key}`)
        return
      }
      if (change.value === undefined) known.delete(change.key)
      else known.add(change.key)
      onChange(change.key, change.value)
    })
    for (const k of await this.ctx.cmd.hkeys(key).catch(() => [] as string[])) known.add(k)
    // Changes made while the connection was down were not seen: report the current contents (the
    // core drops values identical to what it last saw) and the keys that disappeared.
    const offReconnect = this.ctx.onReconnect(() => {
      void this.getAll(map)
        .then((now) => {
          for (const [k, v] of now) onChange(k, v)
          for (const k of [...known]) if (!now.has(k)) onChange(k, undefined)
          known.clear()
          for (const k of now.keys()) known.add(k)
        })
        .catch((err) => this.ctx.logger.debug(`unipc: resync of ${map} after a reconnect failed`, err))
    })
    return {
      close: async () => {
        offReconnect()
        await remove()
      },
    }
  }
}

/** Parses `s<len>:<key><value>` or `d<len>:<key>`; undefined when malformed. */
export function parseChange(message: Buffer): { key: string; value: Uint8Array | undefined } | undefined {
  const op = message[0]
  const colon = message.indexOf(0x3a)
  if ((op !== 0x73 && op !== 0x64) || colon < 2) return undefined
  const len = Number(message.subarray(1, colon).toString())
  if (!Number.isSafeInteger(len) || colon + 1 + len > message.length) return undefined
  const key = message.subarray(colon + 1, colon + 1 + len).toString()
  if (op === 0x64) return { key, value: undefined }
  return { key, value: message.subarray(colon + 1 + len) }
}
