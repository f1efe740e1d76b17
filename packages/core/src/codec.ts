/**
 * Codecs turn application values into bytes and back. The default is msgpack (msgpackr):
 * binary, Date, Map, Set and BigInt survive a round trip. A JSON codec is provided for
 * interoperability, and any object with `encode`/`decode` can be passed as a custom codec.
 * @module
 */
import { addExtension, Packr } from 'msgpackr'
import { CodecError } from './errors.js'
import { bytesKind, decodeFast, encodeBytes, encodeFlat, encodeScalar } from './internal/msgpack-flat.js'

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

/**
 * Bytes alone (a Uint8Array or a Buffer), lone scalars (a command's `null` reply) and flat objects
 * of scalars and bytes (typed-call parameters) are the common payloads on hot paths; the general packer and unpacker spend several
 * allocations on them. They are written and read by hand, byte-identical to msgpackr, so peers that
 * use msgpackr directly see no difference (see internal/msgpack-flat.ts).
 */
function encodeFast(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return encodeScalar(value)
  if (!(value instanceof Uint8Array)) return encodeFlat(value)
  const kind = bytesKind(value)
  return kind ? encodeBytes(value, kind) : undefined
}

/** The default codec: msgpack via msgpackr, keeping binary, Date, Map, Set and BigInt. */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode(value) {
    const quick = encodeFast(value)
    if (quick) return quick
    try {
      return packr.pack(tagMaps(value))
    } catch (cause) {
      throw new CodecError(`cannot encode value as msgpack: ${(cause as Error).message}`, { cause })
    }
  },
  decode(bytes) {
    return decodeMsgpack(bytes)
  },
}

/**
 * The msgpack codec's decode, with one option the core uses for call bodies of transports whose
 * deliveries are owned: a bin (Buffer) of `viewFrom` bytes or more is a view of `bytes`, not a copy.
 * msgpackr, the fallback, views every bin already. `start`, `end`: where the value lies in `bytes`
 * (a frame's body read in place).
 * @internal
 */
export function decodeMsgpack(bytes: Uint8Array, viewFrom?: number, start = 0, end = bytes.length): unknown {
  const quick = decodeFast(bytes, viewFrom, start, end)
  if (quick !== undefined) return quick
  try {
    // A Buffer view, as a frame's body is handed out elsewhere: msgpackr views its bins as Buffers then.
    return packr.unpack(
      start === 0 && end === bytes.length
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start),
    )
  } catch (cause) {
    throw new CodecError(
      `cannot decode msgpack payload of ${bytes.length} bytes: ${(cause as Error).message}`,
      { cause },
    )
  }
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
