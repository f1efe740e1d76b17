/**
 * Durable events (optional, native mode): an event channel can also be kept in a stream
 * `<p>dev:{<channel>}`, capped with `MAXLEN ~`, so a subscriber that remembers the id of the last
 * entry it saw can replay what it missed. A durable publish appends to the stream and PUBLISHes on
 * the live channel in one script, so live subscribers see it too. Reading uses XREAD … BLOCK 0 on a
 * dedicated connection per durable subscription. The core has no API for this yet; see
 * {@link durableEvents} in index.ts.
 * @module
 */
import { type Closable, InvalidArgumentError } from '@unipc/core/spi'
import { toBuffer } from '../bytes.js'
import { type Client, commandBuffer, endClient, readyToResume, untilClosed } from '../client.js'
import type { RedisContext } from '../context.js'
import { redisCall } from '../errors.js'
import { eventChannel } from './keys.js'

/** One entry of a durable channel. */
export interface DurableEntry {
  /** The stream id (`<ms>-<seq>`); pass it as `from` to resume after this entry. */
  readonly id: string
  readonly channel: string
  readonly data: Uint8Array
}

/** Where a durable subscription starts: after an id, at the oldest kept entry, or with new entries only. */
export type DurableStart = string | 'first' | 'new'

/** XADD … MAXLEN ~ n, then PUBLISH on the live channel. KEYS: stream. ARGV: live channel, maxlen, data. */
const DURABLE_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[3])
return id`

/** The stream of a durable channel. */
export function durableKey(prefix: string, channel: string): string {
  return `${prefix}dev:{${channel}}`
}

type Entries = [Buffer, Buffer[]][]

/** Durable channels over Redis streams. */
export class NativeDurableEvents {
  constructor(private readonly ctx: RedisContext) {
    if (typeof (ctx.cmd as unknown as { unipcDurablePublish?: unknown }).unipcDurablePublish !== 'function')
      ctx.cmd.defineCommand('unipcDurablePublish', { lua: DURABLE_PUBLISH, numberOfKeys: 1 })
  }

  /**
   * Publishes `data` on `channel` live and appends it to the channel's stream.
   * @param maxLen - about how many entries the stream keeps (default 10 000)
   * @returns the entry id
   */
  async publish(channel: string, data: Uint8Array, maxLen = 10_000): Promise<string> {
    if (!Number.isSafeInteger(maxLen) || maxLen < 1)
      throw new InvalidArgumentError(`maxLen must be a positive integer, got ${maxLen}`)
    const p = this.ctx.config.prefix
    const cmd = this.ctx.cmd as unknown as {
      unipcDurablePublish(k: string, ch: string, n: number, d: Buffer): Promise<string>
    }
    return redisCall(`publishing durably on '${channel}'`, () =>
      cmd.unipcDurablePublish(durableKey(p, channel), eventChannel(p, channel), maxLen, toBuffer(data)),
    )
  }

  /**
   * Delivers the entries of `channel` after `from` in order, then new ones as they come.
   * @param from - an entry id (resume after it), `'first'` (everything kept) or `'new'`
   */
  async subscribe(
    channel: string,
    from: DurableStart,
    onEntry: (e: DurableEntry) => void,
  ): Promise<Closable> {
    const key = durableKey(this.ctx.config.prefix, channel)
    let last = from === 'first' ? '0-0' : from === 'new' ? '$' : from
    if (last !== '$' && !/^\d+-\d+$|^\d+$/.test(last))
      throw new InvalidArgumentError(`'${from}' is not a stream id (<ms>-<seq>), 'first' or 'new'`)
    if (last === '$') {
      // Pin "new" to the current last id now, so entries published right after subscribe() resolves are seen.
      const info = (await redisCall(`reading '${channel}'`, () =>
        this.ctx.cmd.xrevrange(key, '+', '-', 'COUNT', 1),
      )) as [string, string[]][]
      last = info[0]?.[0] ?? '0-0'
    }
    const blocker: Client = await this.ctx.blocking(`unipc:durable:${channel}`)
    let stopped = false
    const loop = (async () => {
      while (!stopped) {
        try {
          const reply = (await untilClosed(
            blocker,
            commandBuffer(blocker, 'XREAD', ['COUNT', '256', 'BLOCK', '0', 'STREAMS', key, last]),
          )) as [Buffer, Entries][] | null
          for (const [, entries] of reply ?? []) {
            for (const [rawId, fields] of entries) {
              last = rawId.toString()
              const data = fields[1]
              if (data) onEntry({ id: last, channel, data })
            }
          }
        } catch (err) {
          if (stopped) return
          this.ctx.logger.debug(`unipc: durable subscription on '${channel}' lost its connection`, err)
          if (!(await readyToResume(blocker))) return
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    })()
    return {
      close: async () => {
        stopped = true
        endClient(blocker)
        await loop
      },
    }
  }
}
