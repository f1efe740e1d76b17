/**
 * One subscriber connection shared by every listener of a transport: events, map change
 * notifications and the inbox. SUBSCRIBE/PSUBSCRIBE are reference-counted per channel or pattern;
 * ioredis resubscribes after a reconnect.
 * @module
 */
import type { Client } from './client.js'
import { redisCall } from './errors.js'

/** Receives a message: the concrete channel and the raw bytes. */
export type RawListener = (channel: string, message: Buffer) => void

interface Entry {
  readonly listeners: Set<RawListener>
  ready: Promise<void>
}

/** Routes messages of one subscriber connection to listeners by channel or pattern. */
export class Subscriber {
  readonly #channels = new Map<string, Entry>()
  readonly #patterns = new Map<string, Entry>()

  constructor(readonly client: Client) {
    client.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const name = this.#name(channel)
      const entry = this.#channels.get(name)
      if (entry) for (const l of entry.listeners) l(name, message)
    })
    client.on('pmessageBuffer', (pattern: string, channel: Buffer, message: Buffer) => {
      // ioredis hands the pattern over as a string already.
      const entry = this.#patterns.get(String(pattern))
      if (!entry) return
      const name = this.#name(channel)
      for (const l of entry.listeners) l(name, message)
    })
  }

  // Messages mostly arrive in runs on one channel: decode a channel name once per run, and hand
  // listeners the same string (so they can cache what they derive from it).
  #lastChannel: Buffer | undefined
  #lastName = ''
  #name(channel: Buffer): string {
    const last = this.#lastChannel
    if (last !== undefined && sameBytes(channel, last)) return this.#lastName
    this.#lastChannel = Buffer.from(channel)
    this.#lastName = channel.toString()
    return this.#lastName
  }

  /** Listens on an exact channel; resolves once Redis confirmed the subscription. Returns the remover. */
  subscribe(channel: string, listener: RawListener): Promise<() => Promise<void>> {
    return this.#add(this.#channels, channel, listener, false)
  }

  /** Listens on a Redis glob pattern; resolves once confirmed. Returns the remover. */
  psubscribe(pattern: string, listener: RawListener): Promise<() => Promise<void>> {
    return this.#add(this.#patterns, pattern, listener, true)
  }

  async #add(
    table: Map<string, Entry>,
    name: string,
    listener: RawListener,
    pattern: boolean,
  ): Promise<() => Promise<void>> {
    let entry = table.get(name)
    if (!entry) {
      const created: Entry = { listeners: new Set(), ready: Promise.resolve() }
      created.ready = redisCall(`subscribing to ${name}`, async () => {
        if (pattern) await this.client.psubscribe(name)
        else await this.client.subscribe(name)
      })
      table.set(name, created)
      entry = created
      entry.ready.catch(() => {
        if (table.get(name) === created && created.listeners.size === 0) table.delete(name)
      })
    }
    entry.listeners.add(listener)
    try {
      await entry.ready
    } catch (err) {
      entry.listeners.delete(listener)
      throw err
    }
    const current = entry
    let removed = false
    return async () => {
      if (removed) return
      removed = true
      current.listeners.delete(listener)
      if (current.listeners.size > 0 || table.get(name) !== current) return
      table.delete(name)
      await (pattern ? this.client.punsubscribe(name) : this.client.unsubscribe(name)).catch(() => {})
    }
  }
}

/**
 * Byte equality of two channel names. A loop in JS: channel names are short, and `Buffer.equals`
 * (a native call) cost more than the comparison itself on every message.
 */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const n = a.length
  if (n !== b.length) return false
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}
