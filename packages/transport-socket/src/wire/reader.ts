/**
 * Splitting a byte stream into frame bodies, with as few copies as the socket allows.
 *
 * Two ways in. `readTarget()`/`written()` let the socket read straight into the reader's memory
 * (node:net's `onread` with a buffer function). A large frame, once its length is known, is read
 * directly into one buffer of exactly its size, which becomes its body: its bytes are copied by
 * nobody but the kernel. Small frames are read into a scratch buffer that is reused, and the
 * whole frames of each read are copied out together into one exact-size buffer the frames are
 * views of: one allocation per read, as node's own reads make, so a frame someone keeps (a queued
 * command, a map value) holds on to that read's bytes only, never to a large shared block.
 * `push(chunk)` takes chunks the socket allocated itself (TLS): whole frames are views of the
 * chunk, and a large frame is assembled with one copy.
 *
 * The declared length is checked against the limit before anything is allocated for it.
 * @module
 */
import { PayloadTooLargeError, ProtocolError } from '@unipc/core/spi'

/** Small frames are read into a reused buffer of this size. */
const SCRATCH = 64 * 1024
/** Less free room than this at the end of the scratch buffer: its partial frame moves to the start. */
const MIN_ROOM = 16 * 1024
/**
 * A frame at least this large that is not complete gets a buffer of its own (what it already has
 * is copied once, the rest is read into it); a smaller one waits in the scratch buffer.
 */
const OWN_BUFFER = 16 * 1024
/** Where reads go after the reader stopped (the socket may still deliver bytes until it closes). */
const DISCARD = Buffer.allocUnsafe(16 * 1024)
/** The first frame at least this large makes the process {@link settleLargeBuffers}. */
const LARGE = 256 * 1024
let settled = false

/**
 * Stops the C heap from unmapping the memory of large frames between garbage collections, once
 * per process, when its first large frame arrives. V8 frees the buffers of received frames in
 * batches; glibc merges such a batch into the top of its heap and, above its trim threshold
 * (twice its mmap threshold, 2 MiB after the first 1 MiB buffer), returns it to the kernel, so
 * every later large frame page-faults its memory back in, zero-filled, inside the socket read:
 * as much work as the copy itself. glibc raises both thresholds by itself when a program frees a
 * buffer it had mapped on its own (up to 32 MiB); one such buffer, 32 MiB less 64 KiB, allocated
 * without being written (no page of it is ever touched) and dropped, does that, so batches of up to
 * 64 MiB stay mapped and are reused. In a 1 MiB echo this cut page faults tenfold and CPU per MiB
 * by half. The cost: up to 64 MiB a process freed stays mapped for its next large frames. With
 * another allocator this is one short-lived, untouched 32 MiB allocation.
 */
function settleLargeBuffers(): void {
  settled = true
  try {
    Buffer.allocUnsafeSlow(32 * 1024 * 1024 - 64 * 1024)
  } catch {
    // Out of address space (a ulimit): only a speed hint was lost, reading goes on.
  }
}

/** Receives frame bodies, or the reason the stream is unusable (after which nothing more is read). */
export interface FrameSink {
  frame(body: Buffer): void
  error(err: PayloadTooLargeError | ProtocolError): void
}

/** Splits a byte stream into frame bodies. */
export class FrameReader {
  /** Reused for small frames; nothing handed out ever points into it. Allocated on first use. */
  #scratch: Buffer | undefined
  /** First byte of the scratch buffer not yet part of a delivered frame. */
  #start = 0
  /** End of the bytes written into the scratch buffer. */
  #end = 0
  /** The large frame being filled, and how far. */
  #big: Buffer | undefined
  #bigFilled = 0
  #failed = false

  /** @param maxFrame - largest accepted body in bytes; @param sink - receives frames and errors */
  constructor(
    public maxFrame: number,
    readonly sink: FrameSink,
  ) {}

  /**
   * Where the socket should read next: the rest of the large frame being filled, else free room
   * in the scratch buffer. Pass the byte count read there to {@link written}.
   */
  readTarget(): Uint8Array {
    if (this.#failed) return DISCARD
    const big = this.#big
    if (big) return big.subarray(this.#bigFilled)
    let scratch = this.#scratch
    if (!scratch) scratch = this.#scratch = Buffer.allocUnsafe(SCRATCH)
    if (scratch.length - this.#end < MIN_ROOM) {
      // What is left is one partial frame smaller than OWN_BUFFER (or a partial header).
      scratch.copy(scratch, 0, this.#start, this.#end)
      this.#end -= this.#start
      this.#start = 0
    }
    return scratch.subarray(this.#end)
  }

  /** `n` bytes were read into the buffer the last {@link readTarget} returned. */
  written(n: number): void {
    if (this.#failed) return
    const big = this.#big
    if (big) {
      this.#bigFilled += n
      if (this.#bigFilled === big.length) this.#deliverBig(big)
      return
    }
    this.#end += n
    const rest = this.#split(this.#scratch as Buffer, this.#start, this.#end, true)
    if (this.#failed) return
    if (rest === this.#end) this.#start = this.#end = 0
    else this.#start = rest
  }

  /** Feeds received bytes the reader does not own (views of `chunk` may be handed out as frames). */
  push(chunk: Buffer): void {
    while (chunk.length > 0 && !this.#failed) {
      const big = this.#big
      if (big) {
        const take = Math.min(big.length - this.#bigFilled, chunk.length)
        chunk.copy(big, this.#bigFilled, 0, take)
        this.#bigFilled += take
        if (this.#bigFilled === big.length) this.#deliverBig(big)
        chunk = chunk.subarray(take)
        continue
      }
      if (this.#start === this.#end) {
        // Nothing partial: whole frames are views of the chunk; only an incomplete tail is copied.
        chunk = chunk.subarray(this.#split(chunk, 0, chunk.length, false))
        continue
      }
      // Completes the partial frame in the scratch buffer.
      const target = this.readTarget()
      const n = Math.min(target.length, chunk.length)
      chunk.copy(target, 0, 0, n)
      chunk = chunk.subarray(n)
      this.written(n)
    }
  }

  /** Stops reading (e.g. the connection is being closed). */
  stop(): void {
    this.#failed = true
    this.#scratch = undefined
    this.#start = this.#end = 0
    this.#big = undefined
  }

  /**
   * Delivers the whole frames in `buf` from `off` to `end` (copied out together first when `buf`
   * is the reused scratch buffer) and returns where the rest starts: an incomplete small frame, or
   * `end` when the rest went to a frame's own buffer (or the stream failed).
   */
  #split(buf: Buffer, off: number, end: number, scratch: boolean): number {
    const first = off
    let len = 0
    let bad: PayloadTooLargeError | ProtocolError | undefined
    while (end - off >= 4) {
      len = buf.readUInt32BE(off)
      if (len > this.maxFrame) bad = new PayloadTooLargeError(len, this.maxFrame)
      else if (len === 0) bad = new ProtocolError('empty frame')
      if (bad || end - off - 4 < len) break
      off += 4 + len
    }
    if (off > first) {
      const whole = scratch ? Buffer.allocUnsafe(off - first) : buf.subarray(first, off)
      if (scratch) buf.copy(whole, 0, first, off)
      for (let at = 0; at < whole.length && !this.#failed; ) {
        const n = whole.readUInt32BE(at)
        this.sink.frame(whole.subarray(at + 4, at + 4 + n))
        at += 4 + n
      }
      if (this.#failed) return end
    }
    if (bad) {
      this.#fail(bad)
      return end
    }
    if (end - off >= 4 && len >= OWN_BUFFER) {
      if (!settled && len >= LARGE) settleLargeBuffers()
      const big = Buffer.allocUnsafe(len)
      buf.copy(big, 0, off + 4, end)
      this.#big = big
      this.#bigFilled = end - off - 4
      return end
    }
    if (!scratch && off < end) {
      // An incomplete small frame at the end of a chunk we do not own: it waits in the scratch buffer.
      this.#scratch ??= Buffer.allocUnsafe(SCRATCH)
      this.#end = buf.copy(this.#scratch, 0, off, end)
      this.#start = 0
      return end
    }
    return off
  }

  #deliverBig(big: Buffer): void {
    this.#big = undefined
    this.sink.frame(big)
  }

  #fail(err: PayloadTooLargeError | ProtocolError): void {
    this.stop()
    this.sink.error(err)
  }
}
