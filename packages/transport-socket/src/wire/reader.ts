/**
 * Splitting a byte stream into frame bodies, with as few copies as the socket allows.
 *
 * Two ways in. `readTarget()`/`written()` let the socket read straight into the reader's memory
 * (node:net's `onread` with a buffer function): small frames land back to back in a 64 KiB slab
 * and are handed out as views of it (a slab is never written twice, so a view stays valid), and a
 * large frame, once its length is known, is read directly into one buffer of exactly its size: its
 * bytes are copied by nobody but the kernel. `push(chunk)` takes chunks the socket allocated itself
 * (TLS): frames are views of the chunk when whole, and a large frame is assembled with one copy.
 *
 * The declared length is checked against the limit before anything is allocated for it.
 * @module
 */
import { PayloadTooLargeError, ProtocolError } from '@unipc/core/spi'

/** Small frames are read into slabs of this size. */
const SLAB = 64 * 1024
/** A slab with less room than this is left for a new one (reads into a sliver cost a syscall each). */
const MIN_ROOM = 16 * 1024
/**
 * A partial frame at least this large that does not fit in the rest of its slab gets a buffer of
 * its own (what it already has is copied once, the rest is read into it); a smaller one moves to a
 * new slab.
 */
const OWN_BUFFER = 16 * 1024
/** Where reads go after the reader stopped (the socket may still deliver bytes until it closes). */
const DISCARD = Buffer.allocUnsafe(16 * 1024)

/** Receives frame bodies, or the reason the stream is unusable (after which nothing more is read). */
export interface FrameSink {
  frame(body: Buffer): void
  error(err: PayloadTooLargeError | ProtocolError): void
}

/** Splits a byte stream into frame bodies. */
export class FrameReader {
  /** Where small frames are read or gathered; bytes before `#start` are handed out (or skipped). */
  #slab: Buffer = Buffer.allocUnsafe(0)
  /** First byte of the slab not yet part of a delivered frame. */
  #start = 0
  /** End of the bytes written into the slab. */
  #end = 0
  /** Slab offset a partial frame needs to reach to be complete (0: none known). */
  #need = 0
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
   * in the current slab. Pass the byte count read there to {@link written}.
   */
  readTarget(): Uint8Array {
    if (this.#failed) return DISCARD
    const big = this.#big
    if (big) return big.subarray(this.#bigFilled)
    if (this.#slab.length - this.#end < MIN_ROOM || this.#need > this.#slab.length) this.#newSlab()
    return this.#slab.subarray(this.#end)
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
    if (this.#need > this.#end) return
    this.#start = this.#parse(this.#slab, this.#start, this.#end, true)
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
        // Nothing partial: frames are views of the chunk; only an incomplete tail is copied.
        const off = this.#parse(chunk, 0, chunk.length, false)
        if (this.#failed) return
        // The tail's length (if known) is found again once it is in the slab.
        this.#need = 0
        chunk = chunk.subarray(off)
        if (chunk.length === 0) return
      }
      // Completes the partial frame in the slab (copying as little as the frame needs).
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
    this.#slab = DISCARD
    this.#start = this.#end = this.#need = 0
    this.#big = undefined
  }

  /**
   * Delivers the whole frames in `buf` from `off` to `end`; returns where the first incomplete one
   * starts. A large incomplete frame moves to its own buffer (its bytes so far copied once) and is
   * consumed; `inSlab` says whether an incomplete frame may stay where it is.
   */
  #parse(buf: Buffer, off: number, end: number, inSlab: boolean): number {
    this.#need = 0
    while (end - off >= 4) {
      const len = buf.readUInt32BE(off)
      if (len > this.maxFrame) {
        this.#fail(new PayloadTooLargeError(len, this.maxFrame))
        return end
      }
      if (len === 0) {
        this.#fail(new ProtocolError('empty frame'))
        return end
      }
      const avail = end - off - 4
      if (avail >= len) {
        this.sink.frame(buf.subarray(off + 4, off + 4 + len))
        if (this.#failed) return end
        off += 4 + len
        continue
      }
      if (len >= OWN_BUFFER && !(inSlab && off + 4 + len <= buf.length)) {
        const big = Buffer.allocUnsafe(len)
        buf.copy(big, 0, off + 4, end)
        this.#big = big
        this.#bigFilled = avail
        return end
      }
      this.#need = off + 4 + len
      break
    }
    return off
  }

  #deliverBig(big: Buffer): void {
    this.#big = undefined
    this.sink.frame(big)
  }

  /** Starts a slab, carrying over the partial frame (smaller than {@link OWN_BUFFER}) at the end of the old one. */
  #newSlab(): void {
    const old = this.#slab
    const carry = this.#end - this.#start
    const need = this.#need > 0 ? this.#need - this.#start : 0
    const slab = Buffer.allocUnsafe(Math.max(SLAB, need + MIN_ROOM))
    if (carry > 0) old.copy(slab, 0, this.#start, this.#end)
    this.#slab = slab
    this.#start = 0
    this.#end = carry
    this.#need = need
  }

  #fail(err: PayloadTooLargeError | ProtocolError): void {
    this.stop()
    this.sink.error(err)
  }
}
