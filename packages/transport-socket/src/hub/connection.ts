/**
 * One client connection in the hub: the handshake (version, then token proof when the listener
 * wants one), then frames routed to the brokers. A connection that sends anything malformed is
 * closed; nobody else notices.
 * @module
 */
import type { Duplex } from 'node:stream'
import { ErrorCode, type Logger, PayloadTooLargeError, ProtocolError, UnipcError } from '@unipc/core/spi'
import { newNonce, proof, verifyProof } from '../wire/auth.js'
import { type Field, FrameReader } from '../wire/frames.js'
import { decodeValue, type WireValue } from '../wire/msgpack.js'
import { AUTH_CONTEXT_CLIENT, AUTH_CONTEXT_HUB, PROTOCOL_VERSION, T } from '../wire/protocol.js'
import { feedFrames } from '../wire/socket-reads.js'
import { FrameWriter } from '../wire/writer.js'
import type { Peer } from './peer.js'

/** Largest frame accepted before authentication: a handshake is tiny. */
const PRE_AUTH_MAX_FRAME = 4096
const HANDSHAKE_TIMEOUT_MS = 10_000
const ADDRESS_RE = /^[A-Za-z0-9_.:-]{1,128}$/
const DISPATCH_ACK_MS = 20

/** What a connection needs from its hub. */
export interface ConnectionHost {
  readonly logger: Logger
  readonly maxFrame: number
  readonly outboundLimit: number
  /** Feature bits announced in the Welcome (see `Feature`). */
  readonly features: number
  /** A new unique connection id. */
  nextId(): number
  /** Called once the client authenticated. */
  attach(conn: HubConnection): void
  /** Handles one frame of an authenticated client. */
  handle(conn: HubConnection, msg: WireValue[]): void
  /**
   * Sees each frame body of an authenticated client before it is decoded; true: handled (a host
   * reads its hottest frame without the generic decoder). Throws like `handle`.
   */
  handleBody?(conn: HubConnection, body: Buffer): boolean
  /** Called once when the connection is gone. */
  detach(conn: HubConnection): void
}

/** Per-listener security settings. */
export interface ListenerSecurity {
  /** Shared secret the client must prove it knows; undefined: no token check. */
  readonly token: string | undefined
  /** Name of the listener for logs. */
  readonly name: string
}

/** A client connection to the hub. */
export class HubConnection implements Peer {
  readonly id: number
  address = ''
  component = ''
  /** Events dropped because this client was slow. */
  droppedEvents = 0
  readonly #socket: Duplex
  readonly #reader: FrameReader
  readonly #writer: FrameWriter
  readonly #nonce = newNonce()
  readonly #timer: NodeJS.Timeout
  #authed = false
  #closed = false
  #dispatchedUpTo = 0
  #pushedUpTo = 0
  /** Request tags finished this tick (direct links), sent as one Done frame. */
  #done: number[] = []
  #tooSlow = false
  #dispatchTimer: NodeJS.Timeout | undefined

  constructor(
    socket: Duplex,
    readonly host: ConnectionHost,
    readonly security: ListenerSecurity,
    readonly remote: string,
  ) {
    this.id = host.nextId()
    this.#socket = socket
    this.#writer = new FrameWriter(socket, () => this.#summarise(), setImmediate)
    this.#reader = new FrameReader(PRE_AUTH_MAX_FRAME, {
      frame: (body) => this.#onFrame(body),
      error: (err) => this.#refuse(err, 'sent an unusable frame'),
    })
    feedFrames(socket, this.#reader)
    socket.on('error', (err) => this.host.logger.debug(`unipc-hub: ${this.#who()} socket error`, err))
    socket.on('close', () => this.#gone())
    this.#timer = setTimeout(
      () => this.#refuse(new ProtocolError('no handshake within 10 s'), 'did not authenticate'),
      HANDSHAKE_TIMEOUT_MS,
    )
    this.#timer.unref()
    this.send([T.Hello, PROTOCOL_VERSION, this.#nonce, security.token !== undefined, host.maxFrame])
  }

  send(fields: Field[]): void {
    if (this.#closed) return
    if (this.#tooSlow) return
    if (this.#writer.buffered > this.host.outboundLimit + this.host.maxFrame) {
      this.host.logger.warn(
        `unipc-hub: closing ${this.#who()}: it reads too slowly (${this.#writer.buffered} bytes waiting)`,
      )
      // Closed on the next turn, not inside the broker loop that is sending to it; what it held
      // is redelivered then.
      this.#tooSlow = true
      setImmediate(() => this.close())
      return
    }
    this.#writer.sendFields(fields)
  }

  sendDroppable(fields: WireValue[]): void {
    if (this.#room()) this.#writer.sendFields(fields)
  }

  sendDroppableFrame(frame: Buffer | [Buffer, Uint8Array]): void {
    if (this.#room()) this.#writer.send(frame)
  }

  /** Whether a droppable frame may be queued now (else it is counted as dropped). */
  #room(): boolean {
    if (this.#closed) return false
    if (this.#writer.buffered <= this.host.outboundLimit) return true
    if (this.droppedEvents++ % 1000 === 0)
      this.host.logger.warn(`unipc-hub: ${this.#who()} is slow; dropped ${this.droppedEvents} events so far`)
    return false
  }

  /**
   * Notes a successful Dispatch. Acknowledgements are cumulative and sent at most every 20 ms, so
   * a request costs the caller no extra frame: the reply is what it waits for.
   */
  dispatched(rid: number): void {
    this.#dispatchedUpTo = rid
    if (this.#dispatchTimer) return
    this.#dispatchTimer = setTimeout(() => {
      this.#dispatchTimer = undefined
      this.send([T.Dispatched, this.#dispatchedUpTo])
    }, DISPATCH_ACK_MS)
  }

  /**
   * Notes a successful Push. Acknowledgements are cumulative (`[Pushed, rid]`) and leave once per
   * write, so a burst of commands costs one acknowledgement frame, not one each.
   */
  pushed(rid: number): void {
    this.#pushedUpTo = rid
    this.#writer.schedule()
  }

  /** Notes that the request with this tag (on a direct link) is finished; tags leave batched, one `Done` per write. */
  done(tag: number): void {
    if (this.#closed) return
    this.#done.push(tag)
    this.#writer.schedule()
  }

  /**
   * Sends the tick's summary frames (`Pushed`, `Done`) now, then `fields`: a last word (`Bye`) must
   * not overtake the Done tags of work that finished before it.
   */
  sendAfterSummary(fields: Field[]): void {
    this.#summarise()
    this.send(fields)
  }

  #summarise(): void {
    if (this.#closed) return
    if (this.#pushedUpTo !== 0) {
      const upTo = this.#pushedUpTo
      this.#pushedUpTo = 0
      this.#writer.sendFields([T.Pushed, upTo])
    }
    if (this.#done.length > 0) {
      const tags = this.#done
      this.#done = []
      this.#writer.sendFields([T.Done, ...tags])
    }
  }

  /** Replies to request `rid` with an error. */
  fail(rid: number, err: unknown): void {
    const e = err instanceof UnipcError ? err : undefined
    const detail =
      err instanceof PayloadTooLargeError
        ? `${err.size}/${err.limit}`
        : ((e as { target?: string })?.target ?? null)
    this.send([T.Fail, rid, e?.code ?? ErrorCode.Protocol, e?.message ?? String(err), detail])
  }

  /** True once closed or gone. */
  get closed(): boolean {
    return this.#closed
  }

  /** Closes the connection after flushing what is queued. */
  close(): void {
    if (this.#closed) return
    this.#reader.stop()
    this.#writer.flush()
    this.#socket.end()
    // A peer that never reads must not keep the socket (and its buffers) alive.
    setTimeout(() => this.#socket.destroy(), 1000).unref()
    this.#gone()
  }

  #who(): string {
    return `client ${this.component || this.address || '?'} (${this.remote}, ${this.security.name})`
  }

  #onFrame(body: Buffer): void {
    if (this.#authed && this.host.handleBody) {
      try {
        if (this.host.handleBody(this, body)) return
      } catch (err) {
        this.#handleFailed(err)
        return
      }
    }
    let msg: WireValue
    try {
      msg = decodeValue(body)
      if (!Array.isArray(msg) || typeof msg[0] !== 'number')
        throw new ProtocolError('a frame must be an array [type, …]')
    } catch (err) {
      this.#refuse(err as Error, 'sent a malformed frame')
      return
    }
    if (!this.#authed) {
      this.#handshake(msg)
      return
    }
    try {
      this.host.handle(this, msg)
    } catch (err) {
      this.#handleFailed(err)
    }
  }

  #handleFailed(err: unknown): void {
    if (err instanceof ProtocolError) this.#refuse(err, 'broke the protocol')
    else this.host.logger.error(`unipc-hub: failed to handle a frame of ${this.#who()}`, err)
  }

  #handshake(msg: WireValue[]): void {
    const [type, version, clientProof, address, component, clientNonce] = msg
    if (type !== T.Auth) {
      this.#refuse(new ProtocolError('expected Auth first'), 'skipped the handshake')
      return
    }
    if (version !== PROTOCOL_VERSION) {
      this.#refuse(
        new ProtocolError(
          `protocol version ${String(version)} is not supported; this hub speaks ${PROTOCOL_VERSION}`,
        ),
        'speaks another protocol version',
      )
      return
    }
    if (typeof component === 'string') this.component = component.slice(0, 128)
    const token = this.security.token
    if (token !== undefined && !verifyProof(token, AUTH_CONTEXT_CLIENT, this.#nonce, clientProof)) {
      this.host.logger.warn(`unipc-hub: refused ${this.#who()}: wrong token`)
      this.send([T.Fail, 0, ErrorCode.Auth, 'authentication failed: wrong token for this hub', null])
      this.close()
      return
    }
    this.address =
      typeof address === 'string' && ADDRESS_RE.test(address) ? address : `hub:${process.pid}:${this.id}`
    this.#authed = true
    clearTimeout(this.#timer)
    this.#reader.maxFrame = this.host.maxFrame
    const hubProof =
      token !== undefined && clientNonce instanceof Uint8Array
        ? proof(token, AUTH_CONTEXT_HUB, clientNonce)
        : null
    this.send([T.Welcome, PROTOCOL_VERSION, this.address, this.host.maxFrame, hubProof, this.host.features])
    this.host.attach(this)
  }

  #refuse(err: Error, why: string): void {
    if (this.#closed) return
    this.host.logger.warn(`unipc-hub: closing ${this.#who()}: it ${why}: ${err.message}`)
    this.fail(0, err)
    this.close()
  }

  #gone(): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    clearTimeout(this.#dispatchTimer)
    this.#writer.clear()
    if (this.#authed) this.host.detach(this)
  }
}
