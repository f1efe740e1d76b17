/**
 * The two frames every request on a direct link costs, read without the generic msgpack decoder:
 * `[Message, data]` (a reply, at the caller) and `[Request, serverId, tag, data]` (at the server).
 * The generic decoder builds an array per frame and dispatches on every byte; these check the exact
 * byte layout and hand out the payload as a view. Anything else (other types, unusual encodings)
 * returns undefined and takes the generic path, so they never change what a frame means.
 * @module
 */
import { T } from '../wire/protocol.js'

const FIXARRAY_2 = 0x92
const FIXARRAY_4 = 0x94
const BIN8 = 0xc4
const BIN16 = 0xc5
const BIN32 = 0xc6
const UINT8 = 0xcc
const UINT16 = 0xcd
const UINT32 = 0xce

/** The payload of a `[Message, data]` frame body, or undefined when `body` is not one. */
export function messageData(body: Uint8Array): Uint8Array | undefined {
  if (body[0] !== FIXARRAY_2 || body[1] !== T.Message) return undefined
  return binAt(body, 2)
}

/** The fields of a `[Request, serverId, tag, data]` body (valid until the next call). */
export interface RequestFields {
  serverId: number
  tag: number
  data: Uint8Array
}

const fields: RequestFields = { serverId: 0, tag: 0, data: new Uint8Array(0) }

/**
 * Reads a `[Request, serverId, tag, data]` frame body into a shared result object (no allocation
 * besides the payload view), or returns undefined when `body` is not one.
 */
export function requestFields(body: Uint8Array): RequestFields | undefined {
  if (body[0] !== FIXARRAY_4 || body[1] !== T.Request) return undefined
  let pos = uintAt(body, 2)
  if (pos < 0) return undefined
  fields.serverId = uintValue
  pos = uintAt(body, pos)
  if (pos < 0) return undefined
  fields.tag = uintValue
  const data = binAt(body, pos)
  if (!data) return undefined
  fields.data = data
  return fields
}

/** Value of the last integer read by {@link uintAt}. */
let uintValue = 0

/** Reads an unsigned integer at `pos` into `uintValue`; returns the position after it, or -1. */
function uintAt(b: Uint8Array, pos: number): number {
  const t = b[pos]
  if (t === undefined) return -1
  if (t < 0x80) {
    uintValue = t
    return pos + 1
  }
  if (t === UINT8 && pos + 2 <= b.length) {
    uintValue = b[pos + 1] as number
    return pos + 2
  }
  if (t === UINT16 && pos + 3 <= b.length) {
    uintValue = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
    return pos + 3
  }
  if (t === UINT32 && pos + 5 <= b.length) {
    uintValue =
      (b[pos + 1] as number) * 0x1000000 +
      (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
    return pos + 5
  }
  return -1
}

/** The binary at `pos` when it ends exactly where the body ends, as a view; else undefined. */
function binAt(b: Uint8Array, pos: number): Uint8Array | undefined {
  const t = b[pos]
  let len: number
  let start: number
  if (t === BIN8) {
    len = b[pos + 1] as number
    start = pos + 2
  } else if (t === BIN16) {
    len = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
    start = pos + 3
  } else if (t === BIN32) {
    len =
      (b[pos + 1] as number) * 0x1000000 +
      (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number))
    start = pos + 5
  } else return undefined
  if (start + len !== b.length || Number.isNaN(len)) return undefined
  return b.subarray(start)
}
