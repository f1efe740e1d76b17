/**
 * The frames every request or command costs, read without the generic msgpack decoder:
 * `[Message, data]` (a reply, at the caller), `[Request, serverId, tag, data]` (at the server),
 * `[Deliver, consumerId, tag, redelivered, data]` (at a worker) and `[Pushed, rid]` (at a sender).
 * The generic decoder builds an array per frame and dispatches on every byte; these check the exact
 * byte layout and hand out the payload as a view. Anything else (other types, unusual encodings)
 * returns undefined and takes the generic path, so they never change what a frame means.
 * @module
 */
import { binStart, uintAt, uintValue } from '../wire/hot-read.js'
import { T } from '../wire/protocol.js'

const FIXARRAY_2 = 0x92
const FIXARRAY_4 = 0x94
const FIXARRAY_5 = 0x95
const FALSE = 0xc2
const TRUE = 0xc3

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

/** The fields of a `[Deliver, consumerId, tag, redelivered, data]` body (valid until the next call). */
export interface DeliverFields {
  consumerId: number
  tag: number
  redelivered: boolean
  data: Uint8Array
}

const deliver: DeliverFields = { consumerId: 0, tag: 0, redelivered: false, data: new Uint8Array(0) }

/**
 * Reads a `[Deliver, consumerId, tag, redelivered, data]` frame body into a shared result object,
 * or returns undefined when `body` is not one.
 */
export function deliverFields(body: Uint8Array): DeliverFields | undefined {
  if (body[0] !== FIXARRAY_5 || body[1] !== T.Deliver) return undefined
  let pos = uintAt(body, 2)
  if (pos < 0) return undefined
  deliver.consumerId = uintValue
  pos = uintAt(body, pos)
  if (pos < 0) return undefined
  deliver.tag = uintValue
  const flag = body[pos]
  if (flag !== TRUE && flag !== FALSE) return undefined
  deliver.redelivered = flag === TRUE
  const data = binAt(body, pos + 1)
  if (!data) return undefined
  deliver.data = data
  return deliver
}

/** The rid of a `[Pushed, rid]` frame body, or -1 when `body` is not one. */
export function pushedRid(body: Uint8Array): number {
  if (body[0] !== FIXARRAY_2 || body[1] !== T.Pushed) return -1
  return uintAt(body, 2) === body.length ? uintValue : -1
}

/** The binary at `pos` when it ends exactly where the body ends, as a view; else undefined. */
function binAt(b: Uint8Array, pos: number): Uint8Array | undefined {
  const start = binStart(b, pos)
  return start < 0 ? undefined : b.subarray(start)
}
