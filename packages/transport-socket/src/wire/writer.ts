/**
 * Outbound batching: frames queued during one tick leave in a single write (one buffer when small,
 * a corked writev when a large payload travels as its own chunk), which is what keeps the
 * per-message syscall cost low under load.
 * @module
 */
import type { Duplex } from 'node:stream'

const CONCAT_LIMIT = 64 * 1024

/** Queues frames for one socket and writes them once per tick. */
export class FrameWriter {
  #chunks: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
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

  /** Queues one encoded frame (a buffer, or a header and its payload). */
  send(frame: Buffer | [Buffer, Uint8Array]): void {
    if (Array.isArray(frame)) {
      this.#chunks.push(frame[0], frame[1])
      this.#bytes += frame[0].length + frame[1].length
    } else {
      this.#chunks.push(frame)
      this.#bytes += frame.length
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
  }
}
