/** Test support: a socket stand-in for FrameWriter tests. */
import { Duplex } from 'node:stream'

/**
 * A socket stand-in that keeps the written buffers themselves (no copy), like a pending write does,
 * in the order written, whether they come one by one or gathered (writev).
 */
export function keeper(): { socket: Duplex; written: Uint8Array[] } {
  const written: Uint8Array[] = []
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      written.push(chunk)
      done()
    },
    writev(chunks, done) {
      for (const c of chunks) written.push(c.chunk as Buffer)
      done()
    },
  })
  return { socket, written }
}
