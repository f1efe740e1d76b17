/**
 * A small, strict msgpack encoder and decoder for protocol envelopes: integers, floats, strings,
 * binaries, nil, booleans and (nested) arrays. It is what the core's frames and the socket hub's
 * wire are written with: several times cheaper than a general msgpack library for these shapes
 * (one exact-size allocation per encode, no intermediate objects), and safer for untrusted input,
 * since maps, extensions and deep nesting are refused, so a hostile peer cannot make the decoder
 * build arbitrary structures. Binaries decode as views into the input (no copy).
 * @module
 */
import { ProtocolError } from './errors.js'

/** A value an envelope carries. */
export type WireValue = number | string | boolean | null | Uint8Array | WireValue[]

const MAX_DEPTH = 4
const TWO_32 = 2 ** 32

/** A float64 and its bytes, as this machine orders them (for {@link writeInt}'s epoch-ms deadlines). */
const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Encoded size of `v` in bytes. @throws ProtocolError for numbers that are not safe integers */
export function sizeOf(v: WireValue | undefined): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1
  if (typeof v === 'number') return intSize(v)
  if (typeof v === 'string') return strSize(v)
  if (v instanceof Uint8Array) return v.length + binHeaderSize(v.length)
  let n = v.length < 16 ? 1 : v.length < 0x10000 ? 3 : 5
  for (const x of v) n += sizeOf(x)
  return n
}

/** Encoded size of a string (header and UTF-8 bytes). */
export function strSize(s: string): number {
  const n = s.length < 32 && isAscii(s) ? s.length : Buffer.byteLength(s)
  return n + (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5)
}

/** Size of a bin header for `len` bytes. */
export function binHeaderSize(len: number): number {
  return len < 0x100 ? 2 : len < 0x10000 ? 3 : 5
}

/** Encoded size of an integer. @throws ProtocolError when `v` is not a safe integer */
export function intSize(v: number): number {
  if (!Number.isSafeInteger(v)) throw new ProtocolError(`cannot encode ${v}: only safe integers travel`)
  if (v >= 0) return v < 128 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < TWO_32 ? 5 : 9
  return v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= -2147483648 ? 5 : 9
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** Writes `v` into `buf` at `pos`; returns the new position. `buf` must be large enough ({@link sizeOf}). */
export function write(buf: Buffer, pos: number, v: WireValue | undefined): number {
  if (v === null || v === undefined) {
    buf[pos] = 0xc0
    return pos + 1
  }
  if (typeof v === 'boolean') {
    buf[pos] = v ? 0xc3 : 0xc2
    return pos + 1
  }
  if (typeof v === 'number') return writeInt(buf, pos, v)
  if (typeof v === 'string') return writeStr(buf, pos, v)
  if (v instanceof Uint8Array) {
    pos = writeBinHeader(buf, pos, v.length)
    buf.set(v, pos)
    return pos + v.length
  }
  pos = writeArrayHeader(buf, pos, v.length)
  for (const x of v) pos = write(buf, pos, x)
  return pos
}

/** Writes an array header for `n` elements; returns the new position. */
export function writeArrayHeader(buf: Buffer, pos: number, n: number): number {
  if (n < 16) {
    buf[pos] = 0x90 | n
    return pos + 1
  }
  return n < 0x10000 ? writeTagged(buf, pos, 0xdc, n, 2, false) : writeTagged(buf, pos, 0xdd, n, 4, false)
}

/** Writes a string; returns the new position. */
export function writeStr(buf: Buffer, pos: number, s: string): number {
  const len = s.length
  if (len < 32) {
    // The common case (names, addresses): ASCII, one byte per char, no encoder call. On the first
    // other char, start over through the UTF-8 encoder.
    let p = pos + 1
    let i = 0
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) break
      buf[p++] = c
    }
    if (i === len) {
      buf[pos] = 0xa0 | len
      return p
    }
  }
  const n = Buffer.byteLength(s)
  if (n < 32) buf[pos++] = 0xa0 | n
  else if (n < 0x100) pos = writeTagged(buf, pos, 0xd9, n, 1, false)
  else if (n < 0x10000) pos = writeTagged(buf, pos, 0xda, n, 2, false)
  else pos = writeTagged(buf, pos, 0xdb, n, 4, false)
  return pos + buf.write(s, pos, 'utf8')
}

/** Writes the header of a bin of `len` bytes; returns the new position. */
export function writeBinHeader(buf: Buffer, pos: number, len: number): number {
  if (len < 0x100) return writeTagged(buf, pos, 0xc4, len, 1, false)
  return len < 0x10000
    ? writeTagged(buf, pos, 0xc5, len, 2, false)
    : writeTagged(buf, pos, 0xc6, len, 4, false)
}

/** Writes a type byte and a big-endian integer of `bytes` bytes; returns the new position. */
export function writeTagged(
  buf: Buffer,
  pos: number,
  tag: number,
  v: number,
  bytes: number,
  signed: boolean,
): number {
  buf[pos] = tag
  // Unsigned ones by hand: writeUIntBE's checks cost more than the write. Callers pick the width
  // from the value, so it always fits.
  if (signed) buf.writeIntBE(v, pos + 1, bytes)
  else if (bytes === 1) buf[pos + 1] = v
  else if (bytes === 2) {
    buf[pos + 1] = v >>> 8
    buf[pos + 2] = v
  } else if (bytes === 4) {
    // Call ids past 65535 (every call of a long-lived bus), in both its Request and Result frames.
    buf[pos + 1] = v >>> 24
    buf[pos + 2] = v >>> 16
    buf[pos + 3] = v >>> 8
    buf[pos + 4] = v
  } else buf.writeUIntBE(v, pos + 1, bytes)
  return pos + 1 + bytes
}

/** Writes an integer in its smallest form; returns the new position. */
export function writeInt(buf: Buffer, pos: number, v: number): number {
  if (v >= 0) {
    if (v < 128) {
      buf[pos] = v
      return pos + 1
    }
    if (v < 0x100) return writeTagged(buf, pos, 0xcc, v, 1, false)
    if (v < 0x10000) return writeTagged(buf, pos, 0xcd, v, 2, false)
    if (v < TWO_32) return writeTagged(buf, pos, 0xce, v, 4, false)
  } else {
    if (v >= -32) {
      buf[pos] = v & 0xff
      return pos + 1
    }
    if (v >= -128) return writeTagged(buf, pos, 0xd0, v, 1, true)
    if (v >= -32768) return writeTagged(buf, pos, 0xd1, v, 2, true)
    if (v >= -2147483648) return writeTagged(buf, pos, 0xd2, v, 4, true)
  }
  // Beyond 32 bits (epoch-ms deadlines), a float64 like msgpackr writes: exact for safe integers,
  // and general decoders read it as a number, not a BigInt.
  // By hand: writeDoubleBE checks its arguments first (every call's deadline takes this path).
  buf[pos] = 0xcb
  f64[0] = v
  if (littleEndian) for (let i = 0; i < 8; i++) buf[pos + 1 + i] = f64Bytes[7 - i] as number
  else for (let i = 0; i < 8; i++) buf[pos + 1 + i] = f64Bytes[i] as number
  return pos + 9
}

/** Encodes one value into a fresh buffer. */
export function encodeValue(v: WireValue): Buffer {
  const buf = Buffer.allocUnsafe(sizeOf(v))
  write(buf, 0, v)
  return buf
}

/** Views bytes as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Decodes one value that must fill `bytes` exactly. Numbers must be safe integers (large ones may
 * come as integral floats, as general encoders write them).
 * @throws ProtocolError on anything malformed, unsupported, truncated or followed by trailing bytes
 */
export function decodeValue(bytes: Uint8Array): WireValue {
  const r = new WireReader(bytes)
  const v = r.value()
  r.end()
  return v
}

// Number readers for WireReader, made once (not per value read: frames are decoded on every call).
type NumberRead = (buf: Buffer, at: number, n: number) => number
const readInt: NumberRead = (b, at, n) => b.readIntBE(at, n)
const readUint64: NumberRead = (b, at) => b.readUInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4)
const readInt64: NumberRead = (b, at) => b.readInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4)
const readFloat32: NumberRead = (b, at) => b.readFloatBE(at)
const readFloat64: NumberRead = (b, at) => b.readDoubleBE(at)

/**
 * Reads msgpack values one at a time from a buffer, checking every length against what is there.
 * The typed reads (`arrayHeader`, `int`, `number`, `str`, `bin`) fail with ProtocolError when the
 * next value has another type, so decoders of fixed-shape envelopes validate as they read.
 */
export class WireReader {
  /** Position of the next byte to read. */
  pos = 0
  readonly #buf: Buffer

  /** @param bytes - the encoded input (viewed, not copied) */
  constructor(bytes: Uint8Array) {
    this.#buf = asBuffer(bytes)
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buf.length - this.pos
  }

  /** The unread bytes, as a view. */
  rest(): Buffer {
    return this.#buf.subarray(this.pos)
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.pos !== this.#buf.length)
      throw new ProtocolError(`${this.#buf.length - this.pos} trailing bytes after a msgpack value`)
  }

  #need(n: number): void {
    if (this.pos + n > this.#buf.length) throw new ProtocolError('truncated msgpack value')
  }

  #type(): number {
    this.#need(1)
    return this.#buf[this.pos++] as number
  }

  /** Reads an array header; returns its element count (checked against the bytes left). */
  arrayHeader(): number {
    const t = this.#type()
    let n: number
    if ((t & 0xf0) === 0x90) n = t & 0x0f
    else if (t === 0xdc) n = this.#uint(2)
    else if (t === 0xdd) n = this.#uint(4)
    else throw this.#unexpected(t, 'an array')
    // Every element takes at least one byte: refuse counts the input cannot hold.
    if (n > this.remaining) throw new ProtocolError('msgpack array longer than its input')
    return n
  }

  /** Reads a safe integer (also from an integral float, as general msgpack encoders write large ones). */
  int(): number {
    const t = this.#type()
    const v = this.#number(t)
    if (v === undefined || !Number.isSafeInteger(v)) throw this.#unexpected(t, 'an integer')
    return v
  }

  /** Reads a finite number, integer or float. */
  number(): number {
    const t = this.#type()
    const v = this.#number(t)
    if (v === undefined || !Number.isFinite(v)) throw this.#unexpected(t, 'a number')
    return v
  }

  /** Reads a string. */
  str(): string {
    const t = this.#type()
    if ((t & 0xe0) === 0xa0) return this.#str(t & 0x1f)
    if (t === 0xd9) return this.#str(this.#uint(1))
    if (t === 0xda) return this.#str(this.#uint(2))
    if (t === 0xdb) return this.#str(this.#uint(4))
    throw this.#unexpected(t, 'a string')
  }

  /** Reads a binary, as a view into the input. */
  bin(): Buffer {
    const t = this.#type()
    if (t === 0xc4) return this.#bin(this.#uint(1))
    if (t === 0xc5) return this.#bin(this.#uint(2))
    if (t === 0xc6) return this.#bin(this.#uint(4))
    throw this.#unexpected(t, 'a binary')
  }

  /** Reads any supported value; numbers must be safe integers (see {@link decodeValue}). */
  value(depth = 0): WireValue {
    const t = this.#type()
    if (t < 0x80) return t
    if (t >= 0xe0) return t - 0x100
    if ((t & 0xe0) === 0xa0) return this.#str(t & 0x1f)
    if ((t & 0xf0) === 0x90) return this.#array(t & 0x0f, depth)
    switch (t) {
      case 0xc0:
        return null
      case 0xc2:
        return false
      case 0xc3:
        return true
      case 0xc4:
        return this.#bin(this.#uint(1))
      case 0xc5:
        return this.#bin(this.#uint(2))
      case 0xc6:
        return this.#bin(this.#uint(4))
      case 0xd9:
        return this.#str(this.#uint(1))
      case 0xda:
        return this.#str(this.#uint(2))
      case 0xdb:
        return this.#str(this.#uint(4))
      case 0xdc:
        return this.#array(this.#uint(2), depth)
      case 0xdd:
        return this.#array(this.#uint(4), depth)
    }
    const v = this.#number(t)
    if (v === undefined) throw new ProtocolError(`unsupported msgpack type 0x${t.toString(16)}`)
    if (!Number.isSafeInteger(v)) throw new ProtocolError(`cannot decode ${v}: only safe integers travel`)
    return v
  }

  /** A number of type byte `t`, or undefined when `t` is not a number type. */
  #number(t: number): number | undefined {
    if (t < 0x80) return t
    if (t >= 0xe0) return t - 0x100
    if (t >= 0xcc && t <= 0xce) return this.#uint((1 << (t - 0xcc)) as 1 | 2 | 4)
    if (t >= 0xd0 && t <= 0xd2) return this.#read(1 << (t - 0xd0), readInt)
    switch (t) {
      case 0xcf:
        return this.#read(8, readUint64)
      case 0xd3:
        return this.#read(8, readInt64)
      case 0xca:
        return this.#read(4, readFloat32)
      case 0xcb:
        return this.#read(8, readFloat64)
      default:
        return undefined
    }
  }

  /** Reads `n` bytes with `read` after checking they are there. */
  #read(n: number, read: NumberRead): number {
    this.#need(n)
    const v = read(this.#buf, this.pos, n)
    this.pos += n
    return v
  }

  #unexpected(t: number, what: string): ProtocolError {
    return new ProtocolError(`expected ${what}, found msgpack type 0x${t.toString(16)}`)
  }

  #uint(n: 1 | 2 | 4): number {
    this.#need(n)
    const v = this.#buf.readUIntBE(this.pos, n)
    this.pos += n
    return v
  }

  #str(n: number): string {
    this.#need(n)
    const buf = this.#buf
    const start = this.pos
    this.pos += n
    return n <= MAX_INTERNED ? shortStr(buf, start, n) : buf.toString('utf8', start, start + n)
  }

  #bin(n: number): Buffer {
    this.#need(n)
    const b = this.#buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  #array(n: number, depth: number): WireValue[] {
    if (depth >= MAX_DEPTH) throw new ProtocolError('msgpack arrays nested too deeply')
    if (n > this.remaining) throw new ProtocolError('msgpack array longer than its input')
    const out: WireValue[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1)
    return out
  }
}

/** Strings up to this many bytes go through the intern table. */
const MAX_INTERNED = 48
/** Slots of the intern table (a power of two). */
const INTERN_SLOTS = 1024
/**
 * Recently decoded short ASCII strings by a hash of their bytes. Frames repeat the same few short
 * strings on every call (method names, inbox addresses, components); returning the same string
 * saves decoding and allocating it, and its hash, which Map lookups need, is computed only once.
 * A slot holds the last string that hashed there; a match is confirmed byte by byte.
 */
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined)

/**
 * Decodes the `n` UTF-8 bytes of a string at `start` of `bytes` (which must hold them), as
 * {@link WireReader} does: short ASCII strings through the intern table.
 */
export function readStrAt(bytes: Uint8Array, start: number, n: number): string {
  return n <= MAX_INTERNED ? shortStr(bytes, start, n) : asBuffer(bytes).toString('utf8', start, start + n)
}

/**
 * True when the `s.length` bytes at `pos` of `bytes` are the ASCII string `s` (one byte per
 * character): how a decoder reuses a string it already has instead of making a new one.
 */
export function spellsAt(bytes: Uint8Array, pos: number, s: string): boolean {
  const n = s.length
  let i = 0
  while (i < n && s.charCodeAt(i) === bytes[pos + i]) i++
  return i === n
}

/** Decodes `n` (at most {@link MAX_INTERNED}) UTF-8 bytes at `start`, interning ASCII strings. */
function shortStr(buf: Uint8Array, start: number, n: number): string {
  const end = start + n
  let h = n
  for (let i = start; i < end; i++) {
    const c = buf[i] as number
    if (c > 0x7f) return asBuffer(buf).toString('utf8', start, end)
    h = (Math.imul(h, 31) + c) | 0
  }
  const slot = h & (INTERN_SLOTS - 1)
  const known = interned[slot]
  if (known !== undefined && known.length === n && spellsAt(buf, start, known)) return known
  const s = asBuffer(buf).toString('latin1', start, end)
  interned[slot] = s
  return s
}
