/**
 * The hand-written baseline's wire: 4-byte big-endian length + msgpack body, with writes batched per
 * tick (cork now, uncork on the next tick: one writev per batch). What a careful engineer writes with
 * node:net when no library is allowed.
 * @module
 */
import type { Socket } from 'node:net'
import { Packr, Unpackr } from 'msgpackr'

const packr = new Packr({ useRecords: false })
const unpackr = new Unpackr({ useRecords: false })

/** Writes msgpack frames to a socket, batching every frame of one tick into one writev. */
export class FrameWriter {
  #corked = false
  /** @param socket - the socket to write to */
  constructor(private readonly socket: Socket) {}

  /** Queues one frame; backpressure is read from `needsDrain`. */
  write(value: unknown): void {
    this.writeEncoded(encodeFrame(value))
  }

  /** Queues a frame encoded once with {@link encodeFrame} (e.g. one event written to many sockets). */
  writeEncoded([head, body]: readonly [Buffer, Buffer]): void {
    if (!this.#corked) {
      this.#corked = true
      this.socket.cork()
      process.nextTick(() => {
        this.#corked = false
        this.socket.uncork()
      })
    }
    this.socket.write(head)
    this.socket.write(body)
  }

  /** True when the socket's buffer is over its high-water mark: wait for 'drain'. */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain
  }
}

/** Encodes one frame: its 4-byte length header and msgpack body. */
export function encodeFrame(value: unknown): [Buffer, Buffer] {
  const body = packr.pack(value)
  const head = Buffer.allocUnsafe(4)
  head.writeUInt32BE(body.length, 0)
  return [head, body]
}

/** Splits a byte stream into frames and decodes each (without copying chunks more than once). */
export function onFrames(socket: Socket, onFrame: (value: unknown) => void): void {
  let chunks: Buffer[] = []
  let buffered = 0
  let need = -1
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    buffered += chunk.length
    for (;;) {
      if (need < 0) {
        if (buffered < 4) return
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        chunks = [head]
        need = head.readUInt32BE(0)
      }
      if (buffered < 4 + need) return
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered)
      const body = all.subarray(4, 4 + need)
      const rest = all.subarray(4 + need)
      chunks = rest.length > 0 ? [rest] : []
      buffered = rest.length
      need = -1
      onFrame(unpackr.unpack(body))
    }
  })
}
