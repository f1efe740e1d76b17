/**
 * For transports that know which server took a request (or which worker took a command): when that
 * process dies, the caller should not wait for its timeout. This builds the reply that fails the
 * call at once with a ConnectionError naming the dead peer.
 * @module
 */
import { ConnectionError, type SerializedError, serializeError } from './errors.js'
import { decodeCommand, decodeRequest, encodeInbox, FrameKind } from './internal/frames.js'

/**
 * The reply that tells a caller its request or command died with the process handling it.
 * @param message - the request or command bytes the transport handed to the dead process
 * @param reason - what happened, e.g. `server process 1234 of 'shm://app' died`
 * @returns the caller's inbox address and the frame to `send` there, or undefined when the message
 *   expects no reply (fire-and-forget) or is not a request or command
 */
export function lostCallReply(
  message: Uint8Array,
  reason: string,
): { to: string; frame: Uint8Array } | undefined {
  return failedCallReply(message, peerLostError(reason))
}

/**
 * The reply that fails a request or command with `error`, for a transport that took the message
 * and cannot deliver it (e.g. the direct link it was written to broke before the server read it).
 * @param message - the request or command bytes the transport could not deliver
 * @param error - what the caller receives (serialized; a UnipcError keeps its class and code)
 * @returns the caller's inbox address and the frame to `send` there, or undefined when the message
 *   expects no reply (fire-and-forget) or is not a request or command
 */
export function failedCallReply(
  message: Uint8Array,
  error: unknown,
): { to: string; frame: Uint8Array } | undefined {
  let id: number
  let replyTo: string
  try {
    const f = decodeRequest(message)
    id = f.id
    replyTo = f.replyTo
  } catch {
    try {
      const f = decodeCommand(message)
      id = f.id
      replyTo = f.replyTo
    } catch {
      return undefined
    }
  }
  if (!replyTo) return undefined
  const serialized = isSerialized(error) ? error : serializeError(error)
  return { to: replyTo, frame: encodeInbox({ kind: FrameKind.Error, id, error: serialized }) }
}

/**
 * True for the core's caller-to-server control frames (Cancel, Credit), read from the first two
 * bytes only: a transport that routes a call's frames on one path can send these where the call
 * went, without decoding them.
 */
export function isCallerControl(message: Uint8Array): boolean {
  const kind = message[1]
  return ((message[0] as number) & 0xf0) === 0x90 && (kind === FrameKind.Cancel || kind === FrameKind.Credit)
}

function isSerialized(v: unknown): v is SerializedError {
  return typeof v === 'object' && v !== null && !(v instanceof Error) && 'name' in v && 'message' in v
}

/**
 * The error a caller receives (as ConnectionError) when the process or bus handling its call went
 * away before answering.
 * @param reason - what happened
 */
export function peerLostError(reason: string): SerializedError {
  return { ...serializeError(new ConnectionError(reason)), data: { peerLost: true } }
}
