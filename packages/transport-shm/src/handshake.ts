/**
 * The rendezvous handshake: one JSON line each way on the bus's unix socket (docs/protocol/shm.md,
 * "Handshake"). After it the socket carries nothing; its EOF tells either side that the other died.
 * @module
 */
import type { Socket } from 'node:net'
import { ProtocolError } from '@unipc/core/spi'

/** Protocol version spoken in the handshake. */
export const PROTOCOL_VERSION = 1
/** Longest handshake line accepted. */
const MAX_LINE = 4096

/** What a bus sends when it connects. */
export interface Hello {
  readonly v: number
  readonly pid: number
  /** The link segment the bus created. */
  readonly segment: string
  /** The bus's doorbell FIFO. */
  readonly bell: string
  /** The bus's component, for diagnostics. */
  readonly component: string
}

/** What the broker answers. */
export interface Welcome {
  readonly v: number
  readonly ok: boolean
  readonly error?: string
  readonly pid?: number
  readonly bell?: string
  /** The bus's inbox address. */
  readonly address?: string
}

/**
 * Reads one newline-terminated JSON object from `socket`, at most 4 KiB, within `timeoutMs`.
 * Leaves the socket paused with nothing consumed beyond the line.
 */
export function readJsonLine(socket: Socket, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const done = (err: Error | undefined, value?: Record<string, unknown>): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onEnd)
      socket.off('close', onEnd)
      socket.pause()
      if (err) reject(err)
      else resolve(value as Record<string, unknown>)
    }
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('utf8')
      const nl = buf.indexOf('\n')
      if (nl < 0) {
        if (buf.length > MAX_LINE) done(new ProtocolError('shm handshake line is too long'))
        return
      }
      try {
        const v = JSON.parse(buf.slice(0, nl)) as unknown
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
        done(undefined, v as Record<string, unknown>)
      } catch (err) {
        done(new ProtocolError('shm handshake is not a JSON object', { cause: err }))
      }
    }
    const onEnd = (err?: unknown): void =>
      done(new ProtocolError('shm peer closed the socket during the handshake', { cause: err }))
    const timer = setTimeout(() => done(new ProtocolError('shm handshake timed out')), timeoutMs)
    socket.on('data', onData)
    socket.once('error', onEnd)
    socket.once('close', onEnd)
    socket.resume()
  })
}

/** Sends one JSON line. */
export function writeJsonLine(socket: Socket, value: object): void {
  socket.write(`${JSON.stringify(value)}\n`)
}

/**
 * After the handshake: any byte is a protocol violation, EOF means the peer is gone.
 * @param onGone - called once when the socket closes
 */
export function watchForEof(socket: Socket, onGone: () => void): void {
  socket.on('data', () => socket.destroy())
  socket.on('error', () => {})
  socket.once('close', onGone)
  socket.resume()
}

/** Reads a string field of a handshake object. */
export function field(obj: Record<string, unknown>, key: string): string {
  const v = obj[key]
  if (typeof v !== 'string' || v.length > 1024)
    throw new ProtocolError(`shm handshake field '${key}' is missing`)
  return v
}

/** Reads a positive integer field of a handshake object. */
export function intField(obj: Record<string, unknown>, key: string): number {
  const v = obj[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw new ProtocolError(`shm handshake field '${key}' is not a positive integer`)
  return v
}
