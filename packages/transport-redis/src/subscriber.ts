/**
 * One subscriber connection shared by every listener of a transport: events, map change
 * notifications and the inbox. SUBSCRIBE/PSUBSCRIBE are reference-counted per channel or pattern,
 * and sent again after a reconnect.
 * @module
 */
import type { Logger } from '@unipc/core/spi'
import { Cluster } from 'ioredis'
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

  /**
   * @param client - the subscriber connection, connected (created without ioredis's autoResubscribe)
   * @param logger - receives failed resubscriptions
   */
  constructor(
    readonly client: Client,
    private readonly logger: Logger,
  ) {
    // A Cluster's subscriber resubscribes by itself (and handles the outcome); a standalone or
    // Sentinel connection is resubscribed here, each time it is ready again after a reconnect.
    if (!(client instanceof Cluster)) client.on('ready', () => this.#resubscribe())
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

  /**
   * SUBSCRIBE and PSUBSCRIBE again, in one command each, to what listeners hold. A failure is
   * logged, never left unhandled: a connection that drops again resubscribes on its next 'ready',
   * and one closed by the transport has no listeners left to serve.
   */
  #resubscribe(): void {
    const channels = [...this.#channels.keys()]
    const patterns = [...this.#patterns.keys()]
    if (channels.length > 0) this.client.subscribe(...channels).catch(this.#failed)
    if (patterns.length > 0) this.client.psubscribe(...patterns).catch(this.#failed)
  }

  readonly #failed = (err: unknown): void => {
    // Still ready: Redis refused (an ACL without the channel); otherwise the connection went away.
    if (this.client.status === 'ready')
      this.logger.warn('unipc: Redis refused to resubscribe after a reconnect', err)
    else this.logger.debug('unipc: resubscribing after a reconnect was cut short', err)
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
