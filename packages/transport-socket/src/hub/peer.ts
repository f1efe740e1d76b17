/**
 * What the broker needs from a client connection: where to send frames, and whether a frame may be
 * dropped when the client is slow.
 * @module
 */
import type { WireValue } from '../wire/msgpack.js'

/** One authenticated client connection, as the broker sees it. */
export interface Peer {
  /** Unique per connection (never reused while the hub runs). */
  readonly id: number
  /** The client's inbox address. */
  readonly address: string
  /** Queues a frame that must arrive (replies, deliveries, messages). */
  send(fields: WireValue[]): void
  /** Queues a frame that may be dropped when the client's outbound buffer is over its limit (events). */
  sendDroppable(fields: WireValue[]): void
  /** The same for a frame already encoded (the same bytes may be queued for several peers). */
  sendDroppableFrame(frame: Buffer | [Buffer, Uint8Array]): void
}

/** Copies a view into a small standalone buffer when it would otherwise pin a much larger chunk. */
export function own(data: Uint8Array): Uint8Array {
  return data.byteLength * 2 + 1024 < data.buffer.byteLength ? Uint8Array.prototype.slice.call(data) : data
}
