/**
 * redis-ipc events and debug messages. Core channel `X` is published on `channel.events.X` as a JSON
 * object carrying the event's fields, `channel` (the full Redis channel) and the standard fields;
 * core channel `debug.<component>` is `channel.debug.<component>`, whose messages are
 * `{ "message": <≤1023 bytes>, "level": 0..5 }`. Subscribers receive the object without the
 * fields redis-ipc added.
 * @module
 */
import {
  type Closable,
  InvalidArgumentError,
  type MessageListener,
  type PubSubTransport,
} from '@unipc/core/spi'
import type { RedisContext } from '../../context.js'
import { redisCall } from '../../errors.js'
import { escapeGlob, patternToGlob } from '../../native/keys.js'
import {
  coreChannel,
  jsonBytes,
  parseMessage,
  parseObject,
  redisChannel,
  STANDARD_FIELDS,
  standardFields,
  without,
} from './wire.js'

const ADDED_FIELDS = [...STANDARD_FIELDS, 'channel']

/** The redis-ipc pub/sub facility. */
export class RedisIpcEvents implements PubSubTransport {
  constructor(private readonly ctx: RedisContext) {}

  async publish(channel: string, data: Uint8Array): Promise<void> {
    const event = parseObject(data, `event on '${channel}'`)
    if (channel.startsWith('debug.')) checkDebug(event)
    const name = redisChannel(channel)
    const message = { ...event, channel: name, ...standardFields(this.ctx.component ?? 'unipc', this.ctx.id) }
    await redisCall(`publishing on ${name}`, () => this.ctx.cmd.publish(name, JSON.stringify(message)))
  }

  async subscribe(pattern: string, onMessage: MessageListener): Promise<Closable> {
    const listener = (channel: string, raw: Buffer): void => {
      const message = parseMessage(raw)
      if (!message) {
        this.ctx.logger.warn(`unipc: dropped a message on ${channel} that is not a JSON object`)
        return
      }
      onMessage(coreChannel(channel), jsonBytes(without(message, ADDED_FIELDS)))
    }
    const wild = pattern.includes('*') || pattern.includes('>')
    if (!wild) return { close: await this.ctx.sub.subscribe(redisChannel(pattern), listener) }
    // `>` alone or a wildcard first token covers events only; debug is subscribed to by name (`debug.*`).
    const first = pattern.split('.')[0] as string
    const glob =
      first === 'debug'
        ? `channel.${patternToGlob(pattern)}`
        : `${escapeGlob('channel.events.')}${patternToGlob(pattern)}`
    return { close: await this.ctx.sub.psubscribe(glob, listener) }
  }
}

function checkDebug(event: Record<string, unknown>): void {
  const { message, level } = event
  if (typeof message !== 'string' || Buffer.byteLength(message) > 1023)
    throw new InvalidArgumentError(
      'a redis-ipc debug message needs "message": a string of at most 1023 bytes',
    )
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 5)
    throw new InvalidArgumentError('a redis-ipc debug message needs "level": an integer from 0 to 5')
}
