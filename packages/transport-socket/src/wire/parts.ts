/**
 * Messages the core hands over in parts (`supports.gatherWrites`): a large request or reply comes
 * as `[frame start, body bytes, frame end]`, the body often the application's own buffer. The
 * transport carries such a message as one binary field of its frame without joining the parts:
 * the frame encoder writes the field's header and queues the parts behind it, and the socket
 * writes them all with one writev. The wire bytes are those of the joined message.
 * @module
 */
import { type BytesOrParts, partsLength } from '@unipc/core/spi'

/** A message in parts, kept apart from a msgpack array of binaries (which it is not). */
export class Parts {
  /** Byte length of the joined message. */
  readonly length: number

  /** @param list - the parts in order (only read, never written or kept after they are written) */
  constructor(readonly list: readonly Uint8Array[]) {
    this.length = partsLength(list)
  }
}

/** A message as the transport carries it: one byte array, or {@link Parts}. */
export type Payload = Uint8Array | Parts

/** The message the core handed to `send` or `dispatch`, as the transport carries it. */
export function payloadOf(data: BytesOrParts): Payload {
  return data instanceof Uint8Array ? data : new Parts(data)
}

/**
 * The message as one byte array: a copy when it is in parts. For the rare paths that read a whole
 * message (failing a call whose request could not be delivered).
 */
export function joined(p: Payload): Uint8Array {
  return p instanceof Parts ? Buffer.concat(p.list as Uint8Array[], p.length) : p
}
