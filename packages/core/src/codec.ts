/**
 * Codecs turn application values into bytes and back. The default is msgpack (msgpackr):
 * binary, Date, Map, Set and BigInt survive a round trip. A JSON codec is provided for
 * interoperability, and any object with `encode`/`decode` can be passed as a custom codec.
 * @module
 */
import { addExtension, Packr } from 'msgpackr'
import { CodecError } from './errors.js'

/** Turns values into bytes and back. Implementations must not trust their input when decoding. */
export interface Codec {
  /** A short name, e.g. `msgpack` or `json`, shown in diagnostics. */
  readonly name: string
  /** Encodes a value; throws {@link CodecError} when it cannot. */
  encode(value: unknown): Uint8Array
  /** Decodes bytes produced by `encode` (possibly in another process). */
  decode(bytes: Uint8Array): unknown
}

/**
 * msgpack encodes a Map as a msgpack map, which decodes as a plain object. To keep Maps, they are
 * wrapped in this marker class before packing and written as an extension holding the entries.
 */
class TaggedMap {
  constructor(readonly entries: [unknown, unknown][]) {}
}

/** Extension type for Maps; msgpackr's own types use negative and low numbers, 0x75 ('u') is ours. */
const MAP_EXTENSION_TYPE = 0x75

addExtension({
  Class: TaggedMap,
  type: MAP_EXTENSION_TYPE,
  write: (m: TaggedMap) => m.entries,
  read: (entries: [unknown, unknown][]) => {
    if (!Array.isArray(entries)) throw new CodecError('malformed Map extension in msgpack payload')
    return new Map(entries)
  },
})

/**
 * Returns `value` unchanged when it holds no Map; otherwise a copy in which Maps are tagged.
 * Copy-on-write keeps the common case (no Maps) free of allocations.
 */
function tagMaps(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value
  if (value instanceof Map) {
    const entries: [unknown, unknown][] = []
    for (const [k, v] of value) entries.push([tagMaps(k, depth + 1), tagMaps(v, depth + 1)])
    return new TaggedMap(entries)
  }
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof ArrayBuffer) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      const t = tagMaps(v, depth + 1)
      if (t !== v) {
        copy ??= value.slice()
        copy[i] = t
      }
    }
    return copy ?? value
  }
  if (value instanceof Set) {
    let changed = false
    const items = [...value].map((v) => {
      const t = tagMaps(v, depth + 1)
      if (t !== v) changed = true
      return t
    })
    return changed ? new Set(items) : value
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let copy: Record<string, unknown> | undefined
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key]
    const t = tagMaps(v, depth + 1)
    if (t !== v) {
      copy ??= { ...(value as Record<string, unknown>) }
      copy[key] = t
    }
  }
  return copy ?? value
}

const packr = new Packr({ moreTypes: true, useRecords: false, useBigIntExtension: true })

/** msgpackr's extension type for typed arrays; its data is a type code (1 = Uint8Array) and the bytes. */
const TYPED_ARRAY_EXTENSION = 0x74
const UINT8_CODE = 1

/**
 * A payload that is just bytes (a Uint8Array or a Buffer) is the common case on hot paths, and the
 * general packer and unpacker spend several allocations on it. These write and read exactly the
 * bytes msgpackr does (a typed-array extension for a Uint8Array, a bin for a Buffer), so peers that
 * use msgpackr directly see no difference.
 */
function encodeBytes(v: Uint8Array, isBuffer: boolean): Uint8Array {
  const n = isBuffer ? v.length : v.length + 1
  const head = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
  const extra = isBuffer ? 0 : 2
  const out = Buffer.allocUnsafe(head + extra + v.length)
  let pos = 0
  if (n < 0x100) {
    out[pos++] = isBuffer ? 0xc4 : 0xc7
    out[pos++] = n
  } else if (n < 0x10000) {
    out[pos++] = isBuffer ? 0xc5 : 0xc8
    out.writeUInt16BE(n, pos)
    pos += 2
  } else {
    out[pos++] = isBuffer ? 0xc6 : 0xc9
    out.writeUInt32BE(n, pos)
    pos += 4
  }
  if (!isBuffer) {
    out[pos++] = TYPED_ARRAY_EXTENSION
    out[pos++] = UINT8_CODE
  }
  out.set(v, pos)
  return out
}

/** Decodes `bytes` when they hold exactly one bin or Uint8Array extension; undefined otherwise. */
function decodeBytes(bytes: Uint8Array): Uint8Array | undefined {
  const t = bytes[0]
  if (t === undefined || t < 0xc4 || t > 0xc9) return undefined
  const width = (t - 0xc4) % 3 // 0: 8-bit length, 1: 16-bit, 2: 32-bit
  const lenBytes = 1 << width
  if (bytes.length < 1 + lenBytes) return undefined
  let n = 0
  for (let i = 1; i <= lenBytes; i++) n = n * 256 + (bytes[i] as number)
  let start = 1 + lenBytes
  if (start + (t >= 0xc7 ? 1 : 0) + n !== bytes.length) return undefined
  if (t <= 0xc6) return Buffer.from(bytes.subarray(start))
  if (n < 1 || bytes[start] !== TYPED_ARRAY_EXTENSION || bytes[start + 1] !== UINT8_CODE) return undefined
  start += 2
  const out = new Uint8Array(bytes.length - start)
  out.set(bytes.subarray(start))
  return out
}

/** The default codec: msgpack via msgpackr, keeping binary, Date, Map, Set and BigInt. */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode(value) {
    if (value instanceof Uint8Array) {
      const isBuffer = Buffer.isBuffer(value)
      if (isBuffer || value.constructor === Uint8Array) return encodeBytes(value, isBuffer)
    }
    try {
      return packr.pack(tagMaps(value))
    } catch (cause) {
      throw new CodecError(`cannot encode value as msgpack: ${(cause as Error).message}`, { cause })
    }
  },
  decode(bytes) {
    const quick = decodeBytes(bytes)
    if (quick) return quick
    try {
      return packr.unpack(bytes)
    } catch (cause) {
      throw new CodecError(
        `cannot decode msgpack payload of ${bytes.length} bytes: ${(cause as Error).message}`,
        { cause },
      )
    }
  },
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A JSON codec (UTF-8). Binary, Map, Set, BigInt and Date do not survive it; use it for interop. */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value) {
    try {
      // undefined is not JSON; encode it as null so a reply of `undefined` still round-trips.
      return encoder.encode(JSON.stringify(value === undefined ? null : value))
    } catch (cause) {
      throw new CodecError(`cannot encode value as JSON: ${(cause as Error).message}`, { cause })
    }
  },
  decode(bytes) {
    try {
      return JSON.parse(decoder.decode(bytes))
    } catch (cause) {
      throw new CodecError(
        `cannot decode JSON payload of ${bytes.length} bytes: ${(cause as Error).message}`,
        { cause },
      )
    }
  },
}

/**
 * Picks a codec by name, or returns the given codec object.
 * @param codec - `'msgpack'`, `'json'` or a {@link Codec}; defaults to msgpack
 */
export function resolveCodec(codec: Codec | 'msgpack' | 'json' | undefined): Codec {
  if (codec === undefined || codec === 'msgpack') return msgpackCodec
  if (codec === 'json') return jsonCodec
  if (typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new CodecError('a custom codec needs encode(value) and decode(bytes) functions')
  }
  return codec
}
