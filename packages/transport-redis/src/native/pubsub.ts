/**
 * Events over PUBLISH / (P)SUBSCRIBE on `<prefix>ev:<channel>`. A pattern with wildcards becomes
 * a Redis glob that matches a superset (see {@link patternToGlob}); the core filters exactly.
 * @module
 */
import type { Closable, MessageListener, PubSubTransport } from '@unipc/core/spi'
import { toBuffer } from '../bytes.js'
import type { RedisContext } from '../context.js'
import { escapeGlob, eventChannel, patternToGlob } from './keys.js'

/** The native pub/sub facility. */
export class NativePubSub implements PubSubTransport {
  readonly #prefix: string

  constructor(private readonly ctx: RedisContext) {
    this.#prefix = eventChannel(ctx.config.prefix, '')
  }

  publish(channel: string, data: Uint8Array): Promise<void> {
    // Hot path: no async wrapper; one PUBLISH per event, written with the rest of the turn.
    return this.ctx.publisher.event(this.#prefix + channel, toBuffer(data))
  }

  async subscribe(pattern: string, onMessage: MessageListener): Promise<Closable> {
    const strip = this.#prefix.length
    let last = ''
    let stripped = ''
    const listener = (channel: string, message: Buffer): void => {
      if (channel !== last) {
        last = channel
        stripped = channel.slice(strip)
      }
      onMessage(stripped, message)
    }
    const wild = pattern.includes('*') || pattern.includes('>')
    const remove = wild
      ? await this.ctx.sub.psubscribe(escapeGlob(this.#prefix) + patternToGlob(pattern), listener)
      : await this.ctx.sub.subscribe(this.#prefix + pattern, listener)
    return { close: remove }
  }
}
