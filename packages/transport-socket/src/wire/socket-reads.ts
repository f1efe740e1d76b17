/**
 * Connecting a socket's reads to a {@link FrameReader} so that received bytes land in the reader's
 * own buffers (a large frame read straight into the buffer that becomes its body) instead of in a
 * chunk node allocates per read, which the reader would then copy.
 *
 * Sockets we dial get this from node:net's public `onread` option ({@link onreadFor}). Sockets a
 * server accepts cannot be given that option, so {@link feedFrames} switches an accepted socket to
 * the same mode through the fields `onread` sets (found by their symbol descriptions) and the
 * handle's `useUserBuffer`: exactly the state `new Socket({ onread })` creates, reached after
 * construction. It only does so while nothing has been read yet and when every piece is where it
 * expects (node 20 and later); otherwise, and for TLS, the socket's 'data' chunks are pushed.
 * @module
 */
import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { FrameReader } from './reader.js'

/** The `onread` option for a socket we create, feeding `reader`. */
export function onreadFor(reader: FrameReader): {
  buffer: () => Uint8Array
  callback: (n: number) => boolean
} {
  return {
    buffer: () => reader.readTarget(),
    callback: (n) => {
      reader.written(n)
      return true
    },
  }
}

interface UserBufferHandle {
  useUserBuffer(buf: Uint8Array): void
}

/**
 * Feeds everything `socket` receives to `reader`: read straight into the reader's buffers when the
 * socket allows (a plain unix or TCP socket that has not delivered anything yet), else from its
 * 'data' events. Returns which of the two it set up.
 */
export function feedFrames(socket: Duplex, reader: FrameReader): 'direct' | 'chunks' {
  if (readIntoReader(socket, reader)) return 'direct'
  socket.on('data', (chunk: Buffer) => reader.push(chunk))
  return 'chunks'
}

function readIntoReader(socket: Duplex, reader: FrameReader): boolean {
  if (!(socket instanceof Socket) || (socket as Socket & { encrypted?: boolean }).encrypted) return false
  if (socket.readableLength > 0 || socket.bytesRead > 0 || socket.listenerCount('data') > 0) return false
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle
  if (!handle || typeof handle.useUserBuffer !== 'function') return false
  const fields = socket as unknown as Record<symbol, unknown>
  const key: Record<string, symbol> = {}
  for (const sym of Object.getOwnPropertySymbols(socket))
    if (sym.description !== undefined) key[sym.description] = sym
  const kBuffer = key.kBuffer
  const kBufferCb = key.kBufferCb
  const kBufferGen = key.kBufferGen
  // Unset (null) on a socket made without `onread`; anything else means node changed: leave it be.
  if (!kBuffer || !kBufferCb || !kBufferGen) return false
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null || fields[kBufferGen] !== null) return false
  const { buffer, callback } = onreadFor(reader)
  const first = buffer()
  fields[kBufferGen] = buffer
  fields[kBufferCb] = callback
  fields[kBuffer] = first
  ;(handle as UserBufferHandle).useUserBuffer(first)
  return true
}
