/**
 * Reads the Request frames a server receives. Every request of a busy server takes this path, so
 * the usual form (as {@link RequestWriter} and {@link encodeRequest} write it) is read by hand:
 * no reader object, no per-field type dispatch, strings through the intern table, and the body
 * read in place later rather than cut out as a view. Any other form (wider integers, extra fields,
 * a malformed frame) goes to {@link decodeRequest}, which reads or rejects it as before.
 * @module
 */
import { readStrAt } from '../wire-msgpack.js'
import { bodyView, decodeRequest, FrameKind, type RequestFrame, readIdAt } from './frames.js'

/** A request as a server reads it: its body lies from `bodyStart` to `bodyEnd` of `src`. */
export class IncomingRequest implements RequestFrame {
  readonly kind = FrameKind.Request
  id = 0
  method = ''
  replyTo = ''
  flags = 0
  deadline = 0
  sender = ''
  window = 0
  windowBytes: number | undefined = undefined
  windowItems: number | undefined = undefined
  /** The frame (or, for a frame read by {@link decodeRequest}, the body alone). */
  src: Uint8Array = EMPTY
  bodyStart = 0
  bodyEnd = 0

  /** The body, as a view (made on each read: the server itself reads the body in place). */
  get body(): Uint8Array {
    return bodyView(this.src, this.bodyStart, this.bodyEnd)
  }
}

const EMPTY = new Uint8Array(0)

/** Where the scan is (one object, reused: a frame is read synchronously). */
const at = { id: 0 }

/** Length and end of the string header at `pos` (fixstr or str8), into `strLen`; -1 for anything else. */
let strLen = 0
function strHead(b: Uint8Array, pos: number): number {
  const t = b[pos] as number
  if (t >= 0xa0 && t <= 0xbf) {
    strLen = t - 0xa0
    return pos + 1
  }
  if (t === 0xd9) {
    strLen = b[pos + 1] as number
    return pos + 2
  }
  return -1
}

const f64 = new DataView(new ArrayBuffer(8))

/** A string last read at one field, with its UTF-8 bytes. */
class LastRead {
  text = ''
  bytes: Uint8Array = EMPTY
}

/**
 * The last method, reply address and sender read, each compared with the bytes of the next frame
 * before the intern table is asked: a server sees the same few from one caller, and one compare
 * costs half a hash and a compare. Bytes are compared with bytes (a string's characters cost a
 * lookup each: twice the compare, which for a reply address was most of a frame's reading).
 */
const lastMethod = new LastRead()
const lastReplyTo = new LastRead()
const lastSender = new LastRead()

/** The string of the `strLen` bytes at `pos`: the last one read at that field when they match it. */
function str(b: Uint8Array, pos: number, last: LastRead): string {
  const known = last.bytes
  const n = strLen
  if (known.length === n) {
    let i = 0
    while (i < n && known[i] === b[pos + i]) i++
    if (i === n) return last.text
  }
  const s = readStrAt(b, pos, n)
  const bytes = new Uint8Array(n)
  for (let i = 0; i < n; i++) bytes[i] = b[pos + i] as number
  last.text = s
  last.bytes = bytes
  return s
}

/**
 * Decodes a request frame.
 * @param f - where to read it (a server reuses one: its calls copy out what they keep)
 * @throws ProtocolError when malformed
 */
export function readRequest(bytes: Uint8Array, f = new IncomingRequest()): IncomingRequest {
  if (scan(bytes, f)) return f
  const d = decodeRequest(bytes)
  f.id = d.id
  f.method = d.method
  f.replyTo = d.replyTo
  f.flags = d.flags
  f.deadline = d.deadline
  f.sender = d.sender
  f.window = d.window
  f.windowBytes = d.windowBytes
  f.windowItems = d.windowItems
  f.src = d.body
  f.bodyStart = 0
  f.bodyEnd = d.body.length
  return f
}

/** Reads the usual form of a request into `f`; false for any other (nothing is trusted: every length is checked). */
function scan(b: Uint8Array, f: IncomingRequest): boolean {
  const head = b[0]
  if ((head !== 0x99 && head !== 0x9b) || b[1] !== FrameKind.Request) return false
  const len = b.length
  let pos = readIdAt(b, 2, at)
  if (pos < 0) return false
  f.id = at.id
  // method
  pos = strHead(b, pos)
  if (pos < 0 || pos + strLen > len) return false
  f.method = str(b, pos, lastMethod)
  pos += strLen
  // body (one of 64 KiB or more, bin32, goes the general way: its reading is not what costs)
  const t = b[pos]
  let n: number
  if (t === 0xc4) {
    n = b[pos + 1] as number
    pos += 2
  } else if (t === 0xc5) {
    n = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number)
    pos += 3
  } else return false
  if (pos + n > len) return false
  f.src = b
  f.bodyStart = pos
  f.bodyEnd = pos += n
  // replyTo
  pos = strHead(b, pos)
  if (pos < 0 || pos + strLen > len) return false
  f.replyTo = str(b, pos, lastReplyTo)
  pos += strLen
  // flags
  const flags = b[pos++] as number
  if (!(flags < 0x80)) return false
  f.flags = flags
  // deadline: 0 (none), or epoch ms, which the writers put as a float64
  const d = b[pos] as number
  if (d < 0x80) {
    f.deadline = d
    pos++
  } else if (d === 0xcb && pos + 9 <= len) {
    for (let i = 0; i < 8; i++) f64.setUint8(i, b[pos + 1 + i] as number)
    const v = f64.getFloat64(0)
    if (!(v >= 0 && Number.isFinite(v))) return false
    f.deadline = v
    pos += 9
  } else return false
  // sender
  pos = strHead(b, pos)
  if (pos < 0 || pos + strLen > len) return false
  f.sender = str(b, pos, lastSender)
  pos += strLen
  // window, and byte credit's two appended fields
  pos = readIdAt(b, pos, at)
  if (pos < 0) return false
  f.window = at.id
  if (head === 0x9b) {
    pos = readIdAt(b, pos, at)
    if (pos < 0) return false
    f.windowBytes = at.id
    pos = readIdAt(b, pos, at)
    if (pos < 0) return false
    f.windowItems = at.id
  } else f.windowBytes = f.windowItems = undefined
  return pos === len
}
