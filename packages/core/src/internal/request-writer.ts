/**
 * Writes the Request frames of one bus's unary calls. Consecutive calls of a method differ only in
 * their id, body, flags and deadline: the method name, the reply address and the sender are turned
 * into msgpack bytes once and copied into each frame, instead of being measured and encoded per call
 * (in profiles of pipelined calls, that string work was a tenth of the caller's share of the core).
 * The frames are byte for byte what {@link encodeRequest} writes.
 * @module
 */
import { Buffer } from 'node:buffer'
import { assertName } from '../names.js'
import type { BytesOrParts } from '../spi.js'
import { binHeaderSize, intSize, strSize, writeBinHeader, writeInt, writeStr } from '../wire-msgpack.js'
import { type Body, encodeRequest, FrameKind, GatherBody } from './frames.js'
import { bytesHeadSize, writeBytesHead } from './msgpack-flat.js'
import { slabBuffer } from './slab.js'

/** Methods remembered per bus; past this the table starts over (a program calls a few methods). */
const MAX_METHODS = 256

/** A string's msgpack bytes, followed by `extra` bytes. */
function strBytes(s: string, ...extra: number[]): Uint8Array {
  const out = Buffer.allocUnsafe(strSize(s) + extra.length)
  let pos = writeStr(out, 0, s)
  for (const b of extra) out[pos++] = b
  return out
}

/**
 * Copies `src` into `buf` at `pos`; returns the end. Up to 16 bytes by hand; longer ones natively
 * (measured: a loop costs ~1 ns a byte, the native copy ~15 ns whatever the length up to 64).
 */
function copyIn(buf: Buffer, pos: number, src: Uint8Array): number {
  const n = src.length
  if (n > 16) {
    buf.set(src, pos)
    return pos + n
  }
  for (let i = 0; i < n; i++) buf[pos + i] = src[i] as number
  return pos + n
}

/** The Request frames of one bus (see the module's description). */
export class RequestWriter {
  readonly #methods = new Map<string, Uint8Array>()
  /** The sender's name and a window of 0: the frame's last two fields, the same in every unary call. */
  readonly #tail: Uint8Array
  readonly #sender: string
  /**
   * The fields after the body, `[replyTo, flags, deadline, sender, window]`, as written last: calls
   * in the same millisecond carry the same deadline, so most frames copy them in one piece.
   */
  #suffix: Buffer = Buffer.alloc(0)
  #replyTo = ''
  #flags = -1
  #deadline = -1
  /** Where the deadline starts in {@link #suffix}. */
  #deadlineAt = 0

  /** @param sender - the bus's component ('' when it has none) */
  constructor(sender: string) {
    this.#sender = sender
    this.#tail = strBytes(sender, 0)
  }

  /**
   * The encoded name of `method`, checked with {@link assertName} the first time it is seen.
   * @throws InvalidArgumentError for a bad name
   */
  method(method: string): Uint8Array {
    let bytes = this.#methods.get(method)
    if (bytes === undefined) {
      assertName('method', method)
      if (this.#methods.size >= MAX_METHODS) this.#methods.clear()
      bytes = strBytes(method)
      this.#methods.set(method, bytes)
    }
    return bytes
  }

  /**
   * The Request frame of a unary call (window 0, no byte credit).
   * @param method - the method's name and what {@link method} returned for it
   * @param body - the body: encoded, or in parts; or bytes written as `form` says (see `Runtime.bytesForm`)
   * @param replyTo - the bus's inbox address (read per call: some transports know it only once open)
   */
  encode(
    method: string,
    methodBytes: Uint8Array,
    id: number,
    body: Body,
    replyTo: string,
    flags: number,
    deadline: number,
    form?: 'bin' | 'ext',
  ): BytesOrParts {
    // (Bytes written as `form` says are never parts: no class check for them.)
    if (form === undefined && body instanceof GatherBody)
      return encodeRequest({ id, method, body, replyTo, flags, deadline, sender: this.#sender, window: 0 })
    const suffix = this.#suffixOf(replyTo, flags, deadline)
    const len = form ? bytesHeadSize(body.length, form) + body.length : body.length
    const buf = slabBuffer(2 + intSize(id) + methodBytes.length + binHeaderSize(len) + len + suffix.length)
    buf[0] = 0x99 // array of 9
    buf[1] = FrameKind.Request
    let pos = writeInt(buf, 2, id)
    pos = copyIn(buf, pos, methodBytes)
    pos = writeBinHeader(buf, pos, len)
    if (form) pos = copyIn(buf, writeBytesHead(buf, pos, body.length, form), body as Uint8Array)
    else pos = body instanceof Uint8Array ? copyIn(buf, pos, body) : body.writeTo(buf, pos)
    copyIn(buf, pos, suffix)
    return buf
  }

  /** {@link #suffix} for these fields, rewritten where they differ from the last ones. */
  #suffixOf(replyTo: string, flags: number, deadline: number): Buffer {
    let suffix = this.#suffix
    if (deadline === this.#deadline && flags === this.#flags && replyTo === this.#replyTo) return suffix
    if (flags === this.#flags && replyTo === this.#replyTo && intSize(deadline) === intSize(this.#deadline)) {
      // A later millisecond: only the deadline's bytes change (in place: frames hold copies).
      writeInt(suffix, this.#deadlineAt, deadline)
      this.#deadline = deadline
      return suffix
    }
    const tail = this.#tail
    suffix = Buffer.allocUnsafe(strSize(replyTo) + intSize(flags) + intSize(deadline) + tail.length)
    const at = writeInt(suffix, writeStr(suffix, 0, replyTo), flags)
    copyIn(suffix, writeInt(suffix, at, deadline), tail)
    this.#suffix = suffix
    this.#replyTo = replyTo
    this.#flags = flags
    this.#deadline = deadline
    this.#deadlineAt = at
    return suffix
  }
}
