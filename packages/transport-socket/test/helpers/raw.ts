/**
 * Test helper: a raw socket speaking (or mangling) the hub protocol, for robustness tests.
 * @module
 */
import { connect, type Socket } from 'node:net'
import { encodeFrame, FrameReader } from '../../src/wire/frames.js'
import { decodeValue, type WireValue } from '../../src/wire/msgpack.js'
import { PROTOCOL_VERSION, T } from '../../src/wire/protocol.js'

/** A raw connection that collects decoded frames. */
export interface RawClient {
  readonly socket: Socket
  readonly frames: WireValue[][]
  /** Resolves when the hub closed the connection. */
  readonly closed: Promise<void>
  /** Writes one frame. */
  send(fields: WireValue[]): void
}

/** Opens a raw connection to a unix socket path. */
export function rawConnect(path: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    const frames: WireValue[][] = []
    const reader = new FrameReader(64 * 1024 * 1024, {
      frame: (b) => frames.push(decodeValue(b) as WireValue[]),
      error: () => socket.destroy(),
    })
    socket.on('data', (c: Buffer) => reader.push(c))
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      socket.on('error', () => {})
      resolve({
        socket,
        frames,
        closed,
        send: (fields) => {
          const f = encodeFrame(fields)
          if (Array.isArray(f)) {
            socket.write(f[0])
            socket.write(f[1])
          } else socket.write(f)
        },
      })
    })
  })
}

/** Opens a raw connection and completes the (token-less) handshake. */
export async function rawAuthed(path: string): Promise<RawClient> {
  const c = await rawConnect(path)
  c.send([T.Auth, PROTOCOL_VERSION, null, null, 'raw', null])
  const end = Date.now() + 5000
  while (!c.frames.some((f) => f[0] === T.Welcome)) {
    if (Date.now() > end) throw new Error('no Welcome from the hub')
    await new Promise((r) => setTimeout(r, 5))
  }
  return c
}
