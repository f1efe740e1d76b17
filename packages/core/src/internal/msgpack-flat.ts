/**
 * msgpack by hand for flat plain objects: `{ id: 'x', n: 3, data: bytes }`, every value a string,
 * number, boolean, null or bytes. That is the usual body of a typed call (@unipc/rpc-streams sends
 * its named parameters as one object on every call), and msgpackr's general packer and unpacker
 * cost several times the payload's own work there. The bytes are exactly msgpackr's (as the msgpack
 * codec configures it: map16 header, minimal string and integer forms, float64, a typed-array
 * extension for a Uint8Array, bin for a Buffer), so peers decoding with msgpackr see no difference.
 * Anything else (nesting, Maps, Dates, bigints, undefined, non-ASCII strings on the decoding side,
 * more than {@link MAX_FIELDS} fields) is declined (undefined) and left to msgpackr.
 * @module
 */
// Imported: the global Buffer is a getter in ES modules, and this runs on every call.
import { Buffer } from 'node:buffer'
import { intSize, spellsAt, writeInt, writeStr, writeTagged } from '../wire-msgpack.js'
import { slabBuffer } from './slab.js'

/** Objects with more fields go to msgpackr (the fast path is for small parameter objects). */
export const MAX_FIELDS = 32

/** msgpackr's extension type for typed arrays; its data is a type code (1 = Uint8Array) and the bytes. */
const TYPED_ARRAY_EXTENSION = 0x74
const UINT8_CODE = 1

/** How a byte array is written: `bin` (Buffer), `ext` (plain Uint8Array), or not by hand. */
export function bytesKind(v: Uint8Array): 'bin' | 'ext' | undefined {
  if (v.constructor === Uint8Array) return 'ext'
  return Buffer.isBuffer(v) ? 'bin' : undefined
}

/** Encoded size of bytes written as `kind`. */
function bytesSize(v: Uint8Array, kind: 'bin' | 'ext'): number {
  return bytesHeadSize(v.length, kind) + v.length
}

/** Size of the header {@link writeBytesHead} writes before `length` bytes. */
export function bytesHeadSize(length: number, kind: 'bin' | 'ext'): number {
  const n = kind === 'bin' ? length : length + 1
  return (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + (kind === 'bin' ? 0 : 2)
}

/** Bytes alone, encoded as msgpackr does. */
export function encodeBytes(v: Uint8Array, kind: 'bin' | 'ext'): Buffer {
  const out = Buffer.allocUnsafe(bytesSize(v, kind))
  writeBytes(out, 0, v, kind)
  return out
}

/** Writes bytes as msgpackr does (bin for a Buffer, typed-array extension otherwise); returns the end. */
export function writeBytes(out: Buffer, pos: number, v: Uint8Array, kind: 'bin' | 'ext'): number {
  pos = writeBytesHead(out, pos, v.length, kind)
  out.set(v, pos)
  return pos + v.length
}

/** Writes only the header of `length` bytes as msgpackr does (the bytes follow it); returns the end. */
export function writeBytesHead(out: Buffer, pos: number, length: number, kind: 'bin' | 'ext'): number {
  const isBin = kind === 'bin'
  const n = isBin ? length : length + 1
  const width = n < 0x100 ? 0 : n < 0x10000 ? 1 : 2 // 8-, 16- or 32-bit length
  pos = writeTagged(out, pos, (isBin ? 0xc4 : 0xc7) + width, n, 1 << width, false)
  if (!isBin) {
    out[pos++] = TYPED_ARRAY_EXTENSION
    out[pos++] = UINT8_CODE
  }
  return pos
}

/** Integers msgpackr writes in their integer forms (the wire encoder writes those alike); others are float64. */
const isInt32ish = (v: number): boolean => Number.isInteger(v) && v >= -0x80000000 && v < 0x100000000

function writeNum(out: Buffer, pos: number, v: number): number {
  if (isInt32ish(v)) return writeInt(out, pos, v)
  out[pos++] = 0xcb
  out.writeDoubleBE(v, pos)
  return pos + 8
}

// What the measuring pass found, for the writing pass: each field read once (a getter runs once)
// Fixed slots reused by every encode (not reentrant);
// values are cleared after each so that no payload stays referenced.
const keys: string[] = new Array<string>(MAX_FIELDS).fill('')
const values: unknown[] = new Array<unknown>(MAX_FIELDS).fill(undefined)

/**
 * Encoded size of a string (header and UTF-8 bytes), or -1 for a string below 64 characters with a
 * lone surrogate: msgpackr writes that surrogate as its own 3 bytes, Node's UTF-8 encoder (used
 * here, and by msgpackr for longer strings) as U+FFFD.
 */
function strSize(s: string): number {
  let n = s.length
  if (n < 0x40) {
    let ascii = true
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) continue
      ascii = false
      if (c < 0xd800 || c > 0xdfff) continue
      if (c > 0xdbff || (s.charCodeAt(i + 1) & 0xfc00) !== 0xdc00) return -1
      i++
    }
    if (!ascii) n = Buffer.byteLength(s, 'utf8')
  } else n = Buffer.byteLength(s, 'utf8')
  return n + (n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5)
}

/** Encoded size of one field value, or -1 to decline. */
function valueSize(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return strSize(v)
    case 'number':
      return isInt32ish(v) ? intSize(v) : 9
    case 'boolean':
      return 1
    case 'object': {
      if (v === null) return 1
      if (!(v instanceof Uint8Array)) return -1
      const kind = bytesKind(v)
      return kind ? bytesSize(v, kind) : -1
    }
    default:
      return -1
  }
}

/**
 * Measures a flat plain object into the scratch slots: its encoded size, or -1 (slots cleared)
 * for anything else. {@link writeMeasured} writes what this measured.
 */
function measureFlat(value: object): number {
  if (value.constructor !== Object) return -1
  const o = value as Record<string, unknown>
  let n = 0
  let size = 3 // map16 header: msgpackr always writes one
  for (const key in o) {
    // msgpackr writes own keys (for-in order) and relies on hasOwnProperty: keep to the plain case.
    if (n === MAX_FIELDS || key === 'hasOwnProperty' || !Object.hasOwn(o, key)) return clear(n) ?? -1
    // Objects of one shape repeat: the size of the name last seen at this position is kept.
    let ks: number
    if (key === sizedKeys[n]) ks = keySizes[n] as number
    else {
      ks = strSize(key)
      sizedKeys[n] = key
      keySizes[n] = ks
    }
    const v = o[key]
    const vs = valueSize(v)
    if (ks < 0 || vs < 0) return clear(n) ?? -1
    keys[n] = key
    values[n++] = v
    size += ks + vs
  }
  measured = n
  return size
}

/** The name last measured at each field position, and its encoded size. */
const sizedKeys: string[] = new Array<string>(MAX_FIELDS).fill('')
// (An empty name, the initial one, takes 1 byte: its header.)
const keySizes: number[] = new Array<number>(MAX_FIELDS).fill(1)

/** Fields in the scratch slots, measured by {@link measureFlat} and not written yet. */
let measured = 0

/** Writes the object {@link measureFlat} measured last at `pos` of `out`, and clears the slots; returns the end. */
function writeMeasured(out: Buffer, pos: number): number {
  const n = measured
  out[pos] = 0xde
  out[pos + 1] = n >> 8
  out[pos + 2] = n & 0xff
  pos += 3
  for (let i = 0; i < n; i++) {
    pos = writeStr(out, pos, keys[i] as string)
    pos = writeValue(out, pos, values[i])
  }
  clear(n)
  measured = 0
  return pos
}

/**
 * Encodes a flat plain object exactly as msgpackr would, or returns undefined for anything else.
 * @param value - any value (only objects whose constructor is Object are considered)
 */
export function encodeFlat(value: object): Buffer | undefined {
  const size = measureFlat(value)
  if (size < 0) return undefined
  const out = slabBuffer(size)
  writeMeasured(out, 0)
  return out
}

/**
 * A flat plain object to be written straight into a frame as its body (see `PartsBody` in
 * frames.ts): the codec's bytes without a buffer of their own and a copy into the frame. There is
 * one, reused: it must be written before the next flat object is encoded, which the one caller
 * (a request, written right after its body is encoded) does.
 */
class FlatBody {
  length = 0

  writeTo(buf: Buffer, pos: number): number {
    return writeMeasured(buf, pos)
  }
}

const flatBody = new FlatBody()

/**
 * {@link encodeFlat} of `value` as a body to write into a frame right away (the next flat encode
 * invalidates it), when it is a flat plain object of fewer than `maxSize` encoded bytes; undefined
 * otherwise (nothing is kept then).
 */
export function pendingFlat(value: object, maxSize: number): FlatBody | undefined {
  const size = measureFlat(value)
  if (size < 0) return undefined
  if (size >= maxSize) {
    clear(measured)
    measured = 0
    return undefined
  }
  flatBody.length = size
  return flatBody
}

/** Writes one value {@link valueSize} accepted; returns the end. */
function writeValue(out: Buffer, pos: number, v: unknown): number {
  if (typeof v === 'string') return writeStr(out, pos, v)
  if (typeof v === 'number') return writeNum(out, pos, v)
  if (typeof v === 'boolean') {
    out[pos] = v ? 0xc3 : 0xc2
    return pos + 1
  }
  if (v === null) {
    out[pos] = 0xc0
    return pos + 1
  }
  return writeBytes(out, pos, v as Uint8Array, bytesKind(v as Uint8Array) as 'bin' | 'ext')
}

/**
 * Encodes a lone string, number, boolean or null exactly as msgpackr would (a command's `null`
 * acknowledgement, a count, a status word), or returns undefined for anything else.
 */
export function encodeScalar(v: unknown): Buffer | undefined {
  if (typeof v === 'object' && v !== null) return undefined
  const size = valueSize(v)
  if (size < 0) return undefined
  const out = Buffer.allocUnsafe(size)
  writeValue(out, 0, v)
  return out
}

/** Forgets the first `n` values (returns undefined: "declined" when called on the way out). */
function clear(n: number): undefined {
  for (let i = 0; i < n; i++) values[i] = undefined
  return undefined
}

// Decoding state of the one decode in progress (decoding is synchronous and not reentrant).
const EMPTY = new Uint8Array(0)
let src: Uint8Array = EMPTY
let at = 0
const ascii = new TextDecoder('utf-8')
const f64 = new DataView(new ArrayBuffer(8))
/** Returned by {@link readValue} when the value is not one the fast path reads. */
const DECLINE = Symbol('decline')

/** An ASCII string of `len` bytes at `at`, or undefined when it holds other bytes. */
function readAscii(len: number): string | undefined {
  const end = at + len
  if (end > src.length) return undefined
  let s = ''
  for (let i = at; i < end; i++) {
    const c = src[i] as number
    if (c >= 0x80) return undefined
    if (len <= 32) s += String.fromCharCode(c)
  }
  if (len > 32) s = ascii.decode(src.subarray(at, end))
  at = end
  return s
}

// Field names repeat on every call: short ones are looked up here instead of being built again
// (a cached name is also already internalized as a property key).
const KEY_CACHE_SLOTS = 1024
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SLOTS).fill(undefined)

/** The name last read at each field position: compared first (objects of one shape repeat). */
const lastKeys: string[] = new Array<string>(MAX_FIELDS).fill('')

/** The name of `len` bytes at `at`, the field at position `index` of its object. */
function readKey(len: number, index: number): string | undefined {
  if (len > 24 || at + len > src.length) return readAscii(len)
  const last = lastKeys[index] as string
  if (last.length === len && spellsAt(src, at, last)) {
    at += len
    return last
  }
  const key = cachedKey(len)
  if (key !== undefined) lastKeys[index] = key
  return key
}

/** {@link readKey} through the cache by hash. */
function cachedKey(len: number): string | undefined {
  let h = len
  for (let i = at; i < at + len; i++) h = (Math.imul(h, 31) + (src[i] as number)) | 0
  const slot = h & (KEY_CACHE_SLOTS - 1)
  const cached = keyCache[slot]
  if (cached !== undefined && cached.length === len && spellsAt(src, at, cached)) {
    at += len
    return cached
  }
  const key = readAscii(len)
  if (key !== undefined) keyCache[slot] = key
  return key
}

/** The byte length of the string whose header `t` was just read, or -1 when `t` is no string. */
function strLength(t: number): number {
  if (t >= 0xa0 && t <= 0xbf) return t - 0xa0
  if (t === 0xd9) return readUint(1) ?? -1
  if (t === 0xda || t === 0xdb) return readUint(t === 0xda ? 2 : 4) ?? -1
  return -1
}

/**
 * Reads the bin (`t` 0xc4–0xc6, as a Buffer) or Uint8Array extension (`t` 0xc7–0xc9) whose type
 * byte was just read: a copy, except a bin of at least `viewMin` bytes (a view). DECLINE for any
 * other extension.
 */
function readBytesAt(t: number): Uint8Array | typeof DECLINE {
  const isExt = t >= 0xc7
  const n = readUint(1 << ((t - 0xc4) % 3)) // 8-, 16- or 32-bit length
  if (n === undefined) return DECLINE
  let start = at
  const end = start + (isExt ? 1 : 0) + n
  if (end > src.length) return DECLINE
  if (isExt) {
    if (n < 1 || src[start] !== TYPED_ARRAY_EXTENSION || src[start + 1] !== UINT8_CODE) return DECLINE
    start += 2
  }
  const len = end - start
  // A large Buffer body of an input its receiver owns is viewed, as msgpackr views every bin.
  if (!isExt && len >= viewMin) {
    at = end
    return Buffer.from(src.buffer, src.byteOffset + start, len)
  }
  at = end
  return copyOut(src, start, len, isExt)
}

/**
 * A copy of `len` bytes of `from` at `start`: a Uint8Array (`plain`) or a Buffer. Every event and
 * stream item takes this path once per subscriber. A small Buffer is carved from a slab (see
 * slab.ts); a Uint8Array gets an ArrayBuffer of its own, as msgpackr gives it. Up to 64 bytes, a
 * loop four bytes a turn over a local: as fast as a native copy from a view, without the view (a loop over the module's `src` re-read it every byte
 * and cost three times as much). Longer ones are copied natively.
 */
function copyOut(from: Uint8Array, start: number, len: number, plain: boolean): Uint8Array {
  const out = plain ? new Uint8Array(len) : slabBuffer(len)
  if (len > 64) {
    out.set(new Uint8Array(from.buffer, from.byteOffset + start, len))
    return out
  }
  const whole = len & ~3
  let i = 0
  for (; i < whole; i += 4) {
    const at = start + i
    out[i] = from[at] as number
    out[i + 1] = from[at + 1] as number
    out[i + 2] = from[at + 2] as number
    out[i + 3] = from[at + 3] as number
  }
  for (; i < len; i++) out[i] = from[start + i] as number
  return out
}

function readUint(bytes: number): number | undefined {
  if (at + bytes > src.length) return undefined
  let n = 0
  for (let i = 0; i < bytes; i++) n = n * 256 + (src[at++] as number)
  return n
}

const CONSTANTS: readonly unknown[] = [null, DECLINE, false, true]

function readValue(): unknown {
  const t = src[at++]
  if (t === undefined) return DECLINE
  if (t < 0x80) return t
  if (t >= 0xe0) return t - 0x100
  if (t >= 0xc0 && t <= 0xc3) return CONSTANTS[t - 0xc0] // nil, (unused), false, true
  switch (t) {
    case 0xcc:
    case 0xcd:
    case 0xce: {
      const n = readUint(1 << (t - 0xcc))
      return n === undefined ? DECLINE : n
    }
    case 0xd0:
    case 0xd1:
    case 0xd2: {
      const bytes = 1 << (t - 0xd0)
      const n = readUint(bytes)
      if (n === undefined) return DECLINE
      const sign = 2 ** (8 * bytes - 1)
      return n >= sign ? n - 2 * sign : n
    }
    case 0xcb: {
      if (at + 8 > src.length) return DECLINE
      for (let i = 0; i < 8; i++) f64.setUint8(i, src[at++] as number)
      return f64.getFloat64(0)
    }
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xc7:
    case 0xc8:
    case 0xc9:
      return readBytesAt(t)
    default: {
      const len = strLength(t)
      const s = len < 0 ? undefined : readAscii(len)
      return s === undefined ? DECLINE : s
    }
  }
}

/** Bin bodies of at least this many bytes are returned as views (set per decode; see decodeFast). */
let viewMin = Number.POSITIVE_INFINITY

/**
 * Decodes bytes alone (a bin or Uint8Array extension), a lone scalar (nil, boolean, number, ASCII
 * string) or a map of ASCII string keys to flat values (as {@link encodeFlat} writes, or any other
 * msgpack writer with those forms); returns undefined for anything else, so msgpackr decodes it.
 * @param bytes - one whole msgpack value
 * @param viewFrom - a bin (Buffer) body of this many bytes or more is returned as a view of `bytes`
 *   rather than a copy: only for input nobody else reads or reuses
 * @param start - where the value begins in `bytes`: a frame's body is read in place, without a view
 * @param end - where it ends (a value that does not end exactly there declines)
 */
export function decodeFast(
  bytes: Uint8Array,
  viewFrom = Number.POSITIVE_INFINITY,
  start = 0,
  end = bytes.length,
): unknown {
  const t = bytes[start]
  if (t === undefined) return undefined
  // Small bytes alone (a bin8, or a Uint8Array in an ext8): the usual body of a call over bytes.
  if (t === 0xc4 || t === 0xc7) {
    const v = smallBytes(bytes, t, start, end)
    if (v !== undefined) return v
  }
  src = bytes
  at = start + 1
  viewMin = viewFrom
  try {
    let value: unknown
    if (t >= 0xc4 && t <= 0xc9) value = readBytesAt(t)
    else if (t >= 0x80 && t <= 0x8f) value = readFields(t - 0x80)
    else if (t === 0xde) value = readFields(readUint(2) ?? MAX_FIELDS + 1)
    else {
      // A lone scalar (nil, boolean, number, ASCII string); anything else declines.
      at = start
      value = readValue()
    }
    // Reads past `end` (into what follows in the frame) are caught here: `at` only grows.
    return value !== DECLINE && at === end ? value : undefined
  } finally {
    src = EMPTY
  }
}

/**
 * A copy of the bytes of the bin8 (`t` 0xc4) or Uint8Array ext8 (`t` 0xc7) that fills `bytes` from
 * `start` to `end` exactly: {@link readBytesAt} without the decoder's state (it costs as much as
 * the copy); undefined for any other form, which the general path reads or declines.
 */
function smallBytes(bytes: Uint8Array, t: number, start: number, end: number): Uint8Array | undefined {
  const n = bytes[start + 1] as number
  if (end > bytes.length) return undefined
  if (t === 0xc4) return start + 2 + n === end ? copyOut(bytes, start + 2, n, false) : undefined
  if (
    n < 1 ||
    start + 3 + n !== end ||
    bytes[start + 2] !== TYPED_ARRAY_EXTENSION ||
    bytes[start + 3] !== UINT8_CODE
  )
    return undefined
  return copyOut(bytes, start + 4, n - 1, true)
}

/** The fields of a map whose header said `count`, or DECLINE. */
function readFields(count: number): Record<string, unknown> | typeof DECLINE {
  if (count > MAX_FIELDS) return DECLINE
  const out: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const kt = src[at++]
    const len = kt === undefined ? -1 : strLength(kt)
    const key = len < 0 ? undefined : readKey(len, i)
    // msgpackr renames __proto__; leave that to it.
    if (key === undefined || key === '__proto__') return DECLINE
    const v = readValue()
    if (v === DECLINE) return DECLINE
    out[key] = v
  }
  return out
}

/**
 * Bytes to be written into a frame's body as msgpackr would encode them alone: the frame writes the
 * header and copies the bytes once, instead of the codec copying them into a buffer that the frame
 * then copies again (a 1 MiB payload costs one copy less per side).
 */
export class BytesBody {
  readonly length: number

  /** @param bytes - the application's bytes (referenced until the frame is written); @param kind - their form */
  constructor(
    readonly bytes: Uint8Array,
    readonly kind: 'bin' | 'ext',
  ) {
    this.length = bytesHeadSize(bytes.length, kind) + bytes.length
  }

  /** Writes header and bytes at `pos`; returns the end. */
  writeTo(buf: Buffer, pos: number): number {
    return writeBytes(buf, pos, this.bytes, this.kind)
  }
}
