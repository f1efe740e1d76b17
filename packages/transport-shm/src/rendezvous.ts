/**
 * Both sides of setting up a link over a unix socket, shared by bus↔broker and bus↔bus links:
 * the connecting side creates the link segment and offers it; the accepting side maps it after
 * its checks and answers with its own doorbell (docs/protocol/shm.md, "Handshake").
 * @module
 */
import { createConnection, type Socket } from 'node:net'
import { ProtocolError } from '@unipc/core/spi'
import { field, intField, PROTOCOL_VERSION, readJsonLine, writeJsonLine } from './handshake.js'
import { ShmLink } from './link.js'
import { addon } from './load-addon.js'
import { segmentName } from './paths.js'

const HANDSHAKE_TIMEOUT_MS = 5000

/** Connects a unix socket (rejects with the socket error, e.g. ENOENT or ECONNREFUSED). */
export function connectSocket(path: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = createConnection(path)
    s.once('connect', () => {
      s.off('error', reject)
      resolve(s)
    })
    s.once('error', reject)
  })
}

/** What the connecting side says about itself. */
export interface Offer {
  readonly bus: string
  readonly ringSize: number
  /** Our doorbell FIFO. */
  readonly bell: string
  /** Extra handshake fields (component, proposed address). */
  readonly extra: Record<string, unknown>
}

/**
 * Connecting side: creates a link segment, sends the hello, waits for the welcome.
 * @returns the link (not yet added to an endpoint) and the welcome object
 * @throws when refused, on timeout, or when the welcome is incomplete; the segment is removed then
 */
export async function offerLink(
  socket: Socket,
  offer: Offer,
): Promise<{ link: ShmLink; welcome: Record<string, unknown> }> {
  const segment = segmentName(offer.bus, 'l')
  let native: ReturnType<typeof addon.Link.create> | undefined
  try {
    native = addon.Link.create(segment, offer.ringSize)
    writeJsonLine(socket, {
      ...offer.extra,
      v: PROTOCOL_VERSION,
      pid: process.pid,
      segment,
      bell: offer.bell,
    })
    const welcome = await readJsonLine(socket, HANDSHAKE_TIMEOUT_MS)
    if (welcome.ok !== true) throw new ProtocolError(`the link was refused: ${String(welcome.error)}`)
    const link = new ShmLink(native, segment, offer.bus, socket, intField(welcome, 'pid'))
    link.setPeerBell(field(welcome, 'bell'))
    return { link, welcome }
  } catch (err) {
    native?.close()
    addon.unlinkSegment(segment)
    throw err
  }
}

/**
 * Accepting side: reads the hello, maps and checks the offered segment, opens the peer's bell.
 * The caller registers the link and then calls {@link welcome} (or {@link refuse} on error).
 */
export async function acceptLink(
  socket: Socket,
  bus: string,
  maxCapacity: number,
): Promise<{ link: ShmLink; hello: Record<string, unknown> }> {
  const hello = await readJsonLine(socket, HANDSHAKE_TIMEOUT_MS)
  if (hello.v !== PROTOCOL_VERSION)
    throw new ProtocolError(`shm protocol version ${String(hello.v)} is not 1`)
  const segment = field(hello, 'segment')
  const native = addon.Link.open(segment, maxCapacity)
  try {
    const link = new ShmLink(native, segment, bus, socket, intField(hello, 'pid'))
    link.setPeerBell(field(hello, 'bell'))
    return { link, hello }
  } catch (err) {
    native.close()
    throw err
  }
}

/** Accepting side: the welcome, with our doorbell and any extra fields. */
export function welcome(socket: Socket, bell: string, extra: Record<string, unknown> = {}): void {
  writeJsonLine(socket, { ...extra, v: PROTOCOL_VERSION, ok: true, pid: process.pid, bell })
}

/** Accepting side: refuses with a reason and ends the socket. */
export function refuse(socket: Socket, err: unknown): void {
  if (socket.destroyed) return
  writeJsonLine(socket, { v: PROTOCOL_VERSION, ok: false, error: (err as Error).message })
  socket.end()
}
