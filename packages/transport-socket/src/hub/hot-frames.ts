/**
 * The frames the hub reads for every command and event, read without the generic msgpack decoder:
 * `[Enqueue, rid, queue, data]` and `[Send, to, data]` and `[Ack, consumerId, tag]` (a command
 * through the hub), `[Publish, channel, data]` (an event). The generic decoder builds an array per
 * frame and dispatches on every byte; these check the exact byte layout, hand out the payload as a
 * view and reuse the string of the previous frame when its bytes are the same (a worker replies to
 * the same few senders, a sender uses the same queue). Anything else (other types, unusual
 * encodings, non-ASCII names) returns undefined and takes the generic path, so they never change
 * what a frame means.
 * @module
 */
import { binStart, uintAt, uintValue } from '../wire/hot-read.js'
import { T } from '../wire/protocol.js'

const FIXARRAY_3 = 0x93
const FIXARRAY_4 = 0x94
const STR8 = 0xd9

/** The fields of a hot frame (valid until the next call). */
export interface HotFrame {
  type: number
  /** Enqueue: rid; Ack: consumer id. */
  a: number
  /** Ack: tag. */
  b: number
  /** Enqueue: queue; Send: to; Publish: channel. */
  name: string
  /** Enqueue, Send, Publish: the payload (a view into the body). */
  data: Uint8Array
}

const EMPTY = new Uint8Array(0)
const frame: HotFrame = { type: 0, a: 0, b: 0, name: '', data: EMPTY }

/**
 * Reads one of the hot frame bodies into a shared result object (no allocation besides the payload
 * view), or returns undefined when `body` is none of them or not in the plain layout.
 */
export function hotFrame(body: Uint8Array): HotFrame | undefined {
  const head = body[0]
  const type = body[1]
  let pos: number
  if (head === FIXARRAY_3) {
    if (type === T.Send || type === T.Publish) {
      pos = strAt(body, 2, type === T.Send ? toCache : channelCache)
      if (pos < 0) return undefined
      const data = binAt(body, pos)
      if (!data) return undefined
      frame.data = data
    } else if (type === T.Ack) {
      pos = uintAt(body, 2)
      if (pos < 0) return undefined
      frame.a = uintValue
      if (uintAt(body, pos) !== body.length) return undefined
      frame.b = uintValue
    } else return undefined
  } else if (head === FIXARRAY_4 && type === T.Enqueue) {
    pos = uintAt(body, 2)
    if (pos < 0) return undefined
    frame.a = uintValue
    pos = strAt(body, pos, queueCache)
    if (pos < 0) return undefined
    const data = binAt(body, pos)
    if (!data) return undefined
    frame.data = data
  } else return undefined
  frame.type = type
  return frame
}

/** The last string read for one field, with its bytes. */
interface StrCache {
  bytes: Uint8Array
  str: string
}

const toCache: StrCache = { bytes: EMPTY, str: '' }
const queueCache: StrCache = { bytes: EMPTY, str: '' }
const channelCache: StrCache = { bytes: EMPTY, str: '' }

/**
 * Reads an ASCII string (fixstr or str8) at `pos` into `frame.name`; returns the position after it,
 * or -1 (other encodings, non-ASCII bytes: the generic decoder checks those).
 */
function strAt(b: Uint8Array, pos: number, cache: StrCache): number {
  const t = b[pos] as number
  let len: number
  let start: number
  if (t >= 0xa0 && t <= 0xbf) {
    len = t - 0xa0
    start = pos + 1
  } else if (t === STR8) {
    len = b[pos + 1] as number
    start = pos + 2
  } else return -1
  const end = start + len
  if (end > b.length) return -1
  const last = cache.bytes
  if (last.length === len) {
    let same = true
    for (let i = 0; i < len; i++)
      if (last[i] !== b[start + i]) {
        same = false
        break
      }
    if (same) {
      frame.name = cache.str
      return end
    }
  }
  const bytes = new Uint8Array(len)
  let s = ''
  for (let i = 0; i < len; i++) {
    const c = b[start + i] as number
    if (c >= 0x80) return -1
    bytes[i] = c
    s += String.fromCharCode(c)
  }
  cache.bytes = bytes
  cache.str = s
  frame.name = s
  return end
}

/** The binary at `pos` when it ends exactly where the body ends, as a plain view; else undefined. */
function binAt(b: Uint8Array, pos: number): Uint8Array | undefined {
  const start = binStart(b, pos)
  // A plain view: Buffer#subarray costs several times more (species lookup, FastBuffer).
  return start < 0 ? undefined : new Uint8Array(b.buffer, b.byteOffset + start, b.length - start)
}
