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

/** Copies of at most this many bytes share an arena (see {@link ownQueued}). */
const SMALL = 1024
/** Size of one arena. */
const ARENA = 16 * 1024
let arena = new ArrayBuffer(0)
let arenaUsed = 0

/**
 * {@link own} for queued commands: small copies are cut from a shared 16 KiB arena instead of
 * getting a buffer each (a buffer per command was a measurable share of the hub's work). An arena
 * lives while any message in it does: for a FIFO queue about as long as its own messages, at
 * worst 16 KiB per small message held long (map values, which may live for the hub's lifetime,
 * use `own`).
 */
export function ownQueued(data: Uint8Array): Uint8Array {
  const n = data.byteLength
  if (n * 2 + 1024 >= data.buffer.byteLength) return data
  if (n > SMALL) return Uint8Array.prototype.slice.call(data)
  if (arenaUsed + n > arena.byteLength) {
    arena = new ArrayBuffer(ARENA)
    arenaUsed = 0
  }
  const copy = new Uint8Array(arena, arenaUsed, n)
  copy.set(data)
  arenaUsed += n
  return copy
}
