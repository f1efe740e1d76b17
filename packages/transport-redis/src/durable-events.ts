/**
 * The application-facing side of durable events until the core has an API for them: publish to a
 * channel's capped stream (live subscribers see the event too) and replay from a remembered id.
 * @module
 */
import {
  assertChannel,
  type Bus,
  type Closable,
  type Codec,
  InvalidArgumentError,
  msgpackCodec,
} from '@unipc/core'
import type { DurableStart } from './native/durable.js'
import { RedisTransport } from './transport.js'

/** One replayed or new durable event. */
export interface DurableEvent<T = unknown> {
  /** Remember it; pass it as `from` to resume after this event. */
  readonly id: string
  readonly channel: string
  readonly data: T
}

/** Options of {@link durableEvents}. */
export interface DurableEventsOptions {
  /** The bus's codec (default msgpack); durable events are encoded with it so live subscribers can read them. */
  codec?: Codec
}

/** Durable events of one bus. */
export interface DurableEvents {
  /** Publishes live and appends to the channel's stream, which keeps about `maxLen` entries (default 10 000). */
  publish(channel: string, data: unknown, options?: { maxLen?: number }): Promise<string>
  /**
   * Calls `onEvent` for each kept event after `from` (an id, `'first'` or `'new'`), then for new ones.
   * One exact channel per subscription (streams have no patterns).
   */
  subscribe<T = unknown>(
    channel: string,
    from: DurableStart,
    onEvent: (e: DurableEvent<T>) => void,
  ): Promise<Closable>
}

/**
 * Durable events for a bus on the Redis transport (native mode).
 * @param bus - a bus connected with a `redis…` URL
 * @throws InvalidArgumentError when the bus is on another transport or in a compat mode
 * @example
 * ```ts
 * const durable = durableEvents(bus)
 * const id = await durable.publish('orders.created', { order: 7 })
 * await durable.subscribe('orders.created', lastSeenId ?? 'first', (e) => { lastSeenId = e.id })
 * ```
 */
export function durableEvents(bus: Bus, options: DurableEventsOptions = {}): DurableEvents {
  const transport = bus.transport
  if (!(transport instanceof RedisTransport))
    throw new InvalidArgumentError(
      'durable events need a bus on the Redis transport (redis://, redis+unix://)',
    )
  const codec = options.codec ?? msgpackCodec
  return {
    publish(channel, data, o = {}) {
      assertChannel(channel)
      return transport.durable.publish(channel, codec.encode(data), o.maxLen)
    },
    subscribe(channel, from, onEvent) {
      assertChannel(channel)
      return transport.durable.subscribe(channel, from, (e) =>
        onEvent({ id: e.id, channel: e.channel, data: codec.decode(e.data) as never }),
      )
    },
  }
}
