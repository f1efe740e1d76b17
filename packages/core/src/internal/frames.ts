/**
 * The core's own envelope around application payloads: commands, requests, replies, stream items,
 * cancellation and credit. Transports carry these frames as opaque bytes. The envelope is always
 * msgpack (whatever the application codec), as a short array: `[kind, …fields]`. Decoding validates
 * every field's type, so a hostile or corrupt frame is rejected with a ProtocolError, never trusted.
 * @module
 */
import { Packr } from 'msgpackr'
import { ProtocolError, type SerializedError } from '../errors.js'

/** Frame kinds; numbers keep frames small. Documented in docs/protocol/core-frames.md. */
export const FrameKind = {
  Command: 1,
  Request: 2,
  Result: 3,
  Error: 4,
  Accepted: 5,
  Item: 6,
  End: 7,
  Cancel: 8,
  Credit: 9,
} as const

/** Request flags (bit set). */
export const RequestFlag = {
  /** The caller wants an Accepted frame carrying the server's address (to cancel or grant credit). */
  WantAccept: 1,
  /** Server-streaming call: the reply is Items then End. */
  Stream: 2,
} as const

/** A command taken from a queue. */
export interface CommandFrame {
  kind: typeof FrameKind.Command
  id: number
  body: Uint8Array
  /** Inbox address for the reply; empty for fire-and-forget. */
  replyTo: string
  /** Epoch ms after which the command is stale and is not run; 0 for none. */
  deadline: number
  sender: string
}

/** A request dispatched to one server. */
export interface RequestFrame {
  kind: typeof FrameKind.Request
  id: number
  method: string
  body: Uint8Array
  replyTo: string
  flags: number
  deadline: number
  sender: string
  /** Initial credit for streams: items the server may send before waiting for more. */
  window: number
}

/** A reply-side frame addressed to a caller's inbox. */
export type ReplyFrame =
  | { kind: typeof FrameKind.Result; id: number; body: Uint8Array }
  | { kind: typeof FrameKind.Error; id: number; error: SerializedError }
  | { kind: typeof FrameKind.Accepted; id: number; server: string }
  | { kind: typeof FrameKind.Item; id: number; body: Uint8Array }
  | { kind: typeof FrameKind.End; id: number }

/** A control frame from a caller to the server handling its call. */
export type ControlFrame =
  | { kind: typeof FrameKind.Cancel; id: number; caller: string }
  | { kind: typeof FrameKind.Credit; id: number; caller: string; credit: number }

/** Any frame that arrives in an inbox. */
export type InboxFrame = ReplyFrame | ControlFrame

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true })

/** Encodes a command frame. */
export function encodeCommand(f: Omit<CommandFrame, 'kind'>): Uint8Array {
  return packr.pack([FrameKind.Command, f.id, f.body, f.replyTo, f.deadline, f.sender])
}

/** Encodes a request frame. */
export function encodeRequest(f: Omit<RequestFrame, 'kind'>): Uint8Array {
  return packr.pack([
    FrameKind.Request,
    f.id,
    f.method,
    f.body,
    f.replyTo,
    f.flags,
    f.deadline,
    f.sender,
    f.window,
  ])
}

/** Encodes a frame for an inbox. */
export function encodeInbox(f: InboxFrame): Uint8Array {
  switch (f.kind) {
    case FrameKind.Result:
    case FrameKind.Item:
      return packr.pack([f.kind, f.id, f.body])
    case FrameKind.Error:
      return packr.pack([f.kind, f.id, f.error])
    case FrameKind.Accepted:
      return packr.pack([f.kind, f.id, f.server])
    case FrameKind.End:
      return packr.pack([f.kind, f.id])
    case FrameKind.Cancel:
      return packr.pack([f.kind, f.id, f.caller])
    case FrameKind.Credit:
      return packr.pack([f.kind, f.id, f.caller, f.credit])
  }
}

function unpackArray(bytes: Uint8Array, what: string): unknown[] {
  let v: unknown
  try {
    v = packr.unpack(bytes)
  } catch (cause) {
    throw new ProtocolError(`malformed ${what} frame: not msgpack`, { cause })
  }
  if (!Array.isArray(v) || v.length < 2) throw new ProtocolError(`malformed ${what} frame: expected an array`)
  return v
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isStr = (v: unknown): v is string => typeof v === 'string'
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0

/** Decodes a command frame taken from a queue. @throws ProtocolError when malformed */
export function decodeCommand(bytes: Uint8Array): CommandFrame {
  const [kind, id, body, replyTo, deadline, sender] = unpackArray(bytes, 'command')
  if (
    kind !== FrameKind.Command ||
    !isId(id) ||
    !isBytes(body) ||
    !isStr(replyTo) ||
    !isNum(deadline) ||
    !isStr(sender)
  ) {
    throw new ProtocolError('malformed command frame')
  }
  return { kind, id, body, replyTo, deadline, sender }
}

/** Decodes a request frame. @throws ProtocolError when malformed */
export function decodeRequest(bytes: Uint8Array): RequestFrame {
  const [kind, id, method, body, replyTo, flags, deadline, sender, window] = unpackArray(bytes, 'request')
  if (
    kind !== FrameKind.Request ||
    !isId(id) ||
    !isStr(method) ||
    !isBytes(body) ||
    !isStr(replyTo) ||
    !isId(flags) ||
    !isNum(deadline) ||
    !isStr(sender) ||
    !isId(window)
  ) {
    throw new ProtocolError('malformed request frame')
  }
  return { kind, id, method, body, replyTo, flags, deadline, sender, window }
}

function isSerializedError(v: unknown): v is SerializedError {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  return isStr(e.name) && isStr(e.message) && (e.code === undefined || isStr(e.code))
}

/** Decodes a frame that arrived in an inbox. @throws ProtocolError when malformed */
export function decodeInbox(bytes: Uint8Array): InboxFrame {
  const a = unpackArray(bytes, 'inbox')
  const [kind, id] = a
  if (!isId(id)) throw new ProtocolError('malformed inbox frame: bad id')
  switch (kind) {
    case FrameKind.Result:
    case FrameKind.Item:
      if (isBytes(a[2])) return { kind, id, body: a[2] }
      break
    case FrameKind.Error:
      if (isSerializedError(a[2])) return { kind, id, error: a[2] }
      break
    case FrameKind.Accepted:
      if (isStr(a[2])) return { kind, id, server: a[2] }
      break
    case FrameKind.End:
      return { kind, id }
    case FrameKind.Cancel:
      if (isStr(a[2])) return { kind, id, caller: a[2] }
      break
    case FrameKind.Credit:
      if (isStr(a[2]) && isId(a[3])) return { kind, id, caller: a[2], credit: a[3] }
      break
  }
  throw new ProtocolError(`malformed inbox frame of kind ${String(kind)}`)
}
