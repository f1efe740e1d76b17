/**
 * Outbound batching: frames queued during one tick leave in a single write (one buffer when small,
 * a corked writev when a large payload travels as its own chunk), which is what keeps the
 * per-message syscall cost low under load. Frames given as fields are encoded straight into a
 * slab shared by the frames of the tick (and of following ticks while it has room), so a small
 * frame costs no buffer of its own and no copy into the batch.
 * @module
 */
import type { Duplex } from 'node:stream'
import { encodeFrame, encodeGathered, type Field } from './frames.js'
import { sizeOf, type WireValue, write } from './msgpack.js'
import { Parts } from './parts.js'

const CONCAT_LIMIT = 64 * 1024
/** Slab size: a tick's small frames usually fit one; a flush drops a slab once half of it is used. */
const SLAB = 16 * 1024
/** Fields whose last binary is at least this large go through `encodeFrame` (zero-copy payload). */
const LARGE_PAYLOAD = 8 * 1024
const NO_SLAB = Buffer.alloc(0)

/** Queues frames for one socket and writes them once per tick. */
export class FrameWriter {
  #chunks: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
  /** Frames encoded in place: `[#start, #end)` of `#slab` is queued and not yet in `#chunks`. */
  #slab = NO_SLAB
  #start = 0
  #end = 0
  readonly #flush = (): void => this.flush()

  /**
   * @param socket - the connected socket to write to
   * @param beforeFlush - called at the start of each flush, to add frames that summarise the tick
   *   (cumulative acknowledgements) so they leave in the same write
   * @param defer - when the flush runs: `process.nextTick` (default: right after the callback that
   *   queued the frames) or `setImmediate` (after every socket readable in this turn of the event
   *   loop was read, so a process that forwards between many sockets, the hub, writes once per
   *   destination per turn instead of once per source that sent to it)
   */
  constructor(
    readonly socket: Duplex,
    readonly beforeFlush?: () => void,
    readonly defer: (flush: () => void) => unknown = process.nextTick,
  ) {}

  /** Makes sure a flush (and so `beforeFlush`) happens this tick, even with nothing queued yet. */
  schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true
      this.defer(this.#flush)
    }
  }

  /** Bytes accepted but not yet handed to the kernel (queued here plus the socket's own buffer). */
  get buffered(): number {
    return this.#bytes + this.socket.writableLength
  }

  /**
   * Queues the frame whose body is the msgpack array `fields`, encoding it into the batch. A last
   * field in {@link Parts} is not copied: its parts follow the frame's start in the same write.
   * @param size - `fieldsSize(fields)` when the caller already has it (to check a limit)
   */
  sendFields(fields: Field[], size?: number): void {
    const last = fields[fields.length - 1]
    if (last instanceof Parts) {
      this.send(encodeGathered(fields))
      return
    }
    if (last instanceof Uint8Array && last.length >= LARGE_PAYLOAD) {
      this.send(encodeFrame(fields as WireValue[]))
      return
    }
    size ??= sizeOf(fields as WireValue[])
    const n = 4 + size
    let pos = this.#end
    if (pos + n > this.#slab.length) {
      this.#seal()
      this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB, n))
      this.#start = 0
      pos = 0
    }
    const slab = this.#slab
    slab.writeUInt32BE(size, pos)
    write(slab, pos + 4, fields as WireValue[])
    this.#end = pos + n
    this.#bytes += n
    if (!this.#scheduled) {
      this.#scheduled = true
      this.defer(this.#flush)
    }
  }

  /** Moves the frames encoded in the slab to the chunk list (before a chunk that must follow them). */
  #seal(): void {
    if (this.#end === this.#start) return
    this.#chunks.push(this.#slab.subarray(this.#start, this.#end))
    this.#start = this.#end
  }

  /** Queues one encoded frame (a buffer, or its start followed by its payload's chunks). */
  send(frame: Buffer | readonly Uint8Array[]): void {
    this.#seal()
    if (Array.isArray(frame)) {
      for (const c of frame as readonly Uint8Array[]) {
        this.#chunks.push(c)
        this.#bytes += c.length
      }
    } else {
      this.#chunks.push(frame as Buffer)
      this.#bytes += (frame as Buffer).length
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      this.defer(this.#flush)
    }
  }

  /** Writes everything queued now. */
  flush(): void {
    this.beforeFlush?.()
    this.#scheduled = false
    this.#seal()
    // What was written stays the socket's: later frames go after it, or into a new slab.
    if (this.#end > SLAB / 2) {
      this.#slab = NO_SLAB
      this.#start = 0
      this.#end = 0
    }
    const chunks = this.#chunks
    if (chunks.length === 0) return
    const bytes = this.#bytes
    this.#chunks = []
    this.#bytes = 0
    const socket = this.socket
    if (socket.destroyed || !socket.writable) return
    if (chunks.length === 1) socket.write(chunks[0] as Uint8Array)
    else if (bytes <= CONCAT_LIMIT) socket.write(Buffer.concat(chunks, bytes))
    else {
      socket.cork()
      for (const c of chunks) socket.write(c)
      socket.uncork()
    }
  }

  /** Drops everything queued (the connection is going away). */
  clear(): void {
    this.#chunks = []
    this.#bytes = 0
    this.#start = this.#end
  }
}
