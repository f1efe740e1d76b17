/**
 * A small msgpack encoder/decoder for exactly the value shapes the hub protocol uses: integers,
 * strings, binaries, nil, booleans and (nested) arrays. Anything else is rejected, so a hostile
 * peer cannot make the decoder build maps, extension objects or deep structures. Binaries decode
 * as views into the frame (no copy).
 * @module
 */
import { ProtocolError } from '@unipc/core/spi'

/** A value the protocol carries. */
export type WireValue = number | string | boolean | null | Uint8Array | WireValue[]

const MAX_DEPTH = 4

/** Encoded size of `v` in bytes. */
export function sizeOf(v: WireValue | undefined): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1
  if (typeof v === 'number') return intSize(v)
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v)
    return n + (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5)
  }
  if (v instanceof Uint8Array) return v.length + binHeaderSize(v.length)
  let n = v.length < 16 ? 1 : v.length < 0x10000 ? 3 : 5
  for (const x of v) n += sizeOf(x)
  return n
}

/** Size of a bin header for `len` bytes. */
export function binHeaderSize(len: number): number {
  return len < 0x100 ? 2 : len < 0x10000 ? 3 : 5
}

function intSize(v: number): number {
  if (!Number.isSafeInteger(v)) throw new ProtocolError(`cannot encode ${v}: only safe integers travel`)
  if (v >= 0) return v < 128 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < 0x100000000 ? 5 : 9
  return v >= -32 ? 1 : v >= -128 ? 2 : v >= -32768 ? 3 : v >= -2147483648 ? 5 : 9
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
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v)
    if (n < 32) buf[pos++] = 0xa0 | n
    else if (n < 0x100) {
      buf[pos++] = 0xd9
      buf[pos++] = n
    } else if (n < 0x10000) {
      buf[pos++] = 0xda
      buf.writeUInt16BE(n, pos)
      pos += 2
    } else {
      buf[pos++] = 0xdb
      buf.writeUInt32BE(n, pos)
      pos += 4
    }
    return pos + buf.write(v, pos, 'utf8')
  }
  if (v instanceof Uint8Array) {
    pos = writeBinHeader(buf, pos, v.length)
    buf.set(v, pos)
    return pos + v.length
  }
  const n = v.length
  if (n < 16) buf[pos++] = 0x90 | n
  else if (n < 0x10000) {
    buf[pos++] = 0xdc
    buf.writeUInt16BE(n, pos)
    pos += 2
  } else {
    buf[pos++] = 0xdd
    buf.writeUInt32BE(n, pos)
    pos += 4
  }
  for (const x of v) pos = write(buf, pos, x)
  return pos
}

/** Writes the header of a bin of `len` bytes; returns the new position. */
export function writeBinHeader(buf: Buffer, pos: number, len: number): number {
  if (len < 0x100) {
    buf[pos] = 0xc4
    buf[pos + 1] = len
    return pos + 2
  }
  if (len < 0x10000) {
    buf[pos] = 0xc5
    buf.writeUInt16BE(len, pos + 1)
    return pos + 3
  }
  buf[pos] = 0xc6
  buf.writeUInt32BE(len, pos + 1)
  return pos + 5
}

function writeInt(buf: Buffer, pos: number, v: number): number {
  if (v >= 0) {
    if (v < 128) buf[pos++] = v
    else if (v < 0x100) {
      buf[pos++] = 0xcc
      buf[pos++] = v
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd
      buf.writeUInt16BE(v, pos)
      pos += 2
    } else if (v < 0x100000000) {
      buf[pos++] = 0xce
      buf.writeUInt32BE(v, pos)
      pos += 4
    } else {
      buf[pos++] = 0xcf
      buf.writeBigUInt64BE(BigInt(v), pos)
      pos += 8
    }
    return pos
  }
  if (v >= -32) buf[pos++] = v & 0xff
  else if (v >= -128) {
    buf[pos++] = 0xd0
    buf.writeInt8(v, pos++)
  } else if (v >= -32768) {
    buf[pos++] = 0xd1
    buf.writeInt16BE(v, pos)
    pos += 2
  } else if (v >= -2147483648) {
    buf[pos++] = 0xd2
    buf.writeInt32BE(v, pos)
    pos += 4
  } else {
    buf[pos++] = 0xd3
    buf.writeBigInt64BE(BigInt(v), pos)
    pos += 8
  }
  return pos
}

/** Encodes one value into a fresh buffer. */
export function encodeValue(v: WireValue): Buffer {
  const buf = Buffer.allocUnsafe(sizeOf(v))
  write(buf, 0, v)
  return buf
}

/**
 * Decodes one value that must fill `buf` exactly.
 * @throws ProtocolError on anything malformed, unsupported, truncated or followed by trailing bytes
 */
export function decodeValue(buf: Buffer): WireValue {
  const r = new Reader(buf)
  const v = r.read(0)
  if (r.pos !== buf.length)
    throw new ProtocolError(`${buf.length - r.pos} trailing bytes after a msgpack value`)
  return v
}

class Reader {
  pos = 0
  constructor(readonly buf: Buffer) {}

  #need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError('truncated msgpack value')
  }

  read(depth: number): WireValue {
    this.#need(1)
    const buf = this.buf
    const t = buf[this.pos++] as number
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
      case 0xcc:
        return this.#uint(1)
      case 0xcd:
        return this.#uint(2)
      case 0xce:
        return this.#uint(4)
      case 0xcf: {
        this.#need(8)
        const v = Number(buf.readBigUInt64BE(this.pos))
        this.pos += 8
        return v
      }
      case 0xd0:
        this.#need(1)
        return buf.readInt8(this.pos++)
      case 0xd1: {
        this.#need(2)
        const v = buf.readInt16BE(this.pos)
        this.pos += 2
        return v
      }
      case 0xd2: {
        this.#need(4)
        const v = buf.readInt32BE(this.pos)
        this.pos += 4
        return v
      }
      case 0xd3: {
        this.#need(8)
        const v = Number(buf.readBigInt64BE(this.pos))
        this.pos += 8
        return v
      }
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
      default:
        throw new ProtocolError(`unsupported msgpack type 0x${t.toString(16)}`)
    }
  }

  #uint(n: 1 | 2 | 4): number {
    this.#need(n)
    const v = this.buf.readUIntBE(this.pos, n)
    this.pos += n
    return v
  }

  #str(n: number): string {
    this.#need(n)
    const s = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  #bin(n: number): Uint8Array {
    this.#need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  #array(n: number, depth: number): WireValue[] {
    if (depth >= MAX_DEPTH) throw new ProtocolError('msgpack arrays nested too deeply')
    // Every element takes at least one byte: refuse counts the frame cannot hold before allocating.
    if (n > this.buf.length - this.pos) throw new ProtocolError('msgpack array longer than its frame')
    const out: WireValue[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.read(depth + 1)
    return out
  }
}
