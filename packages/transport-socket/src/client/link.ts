/**
 * One client connection to a hub: connects the socket (unix, TCP or TLS), performs the handshake
 * (version, token proof both ways), then carries frames. Replies are matched to requests by id;
 * everything else goes to `onFrame`. A link is never reused: the transport makes a new one to
 * reconnect.
 * @module
 */
import { createRequire } from 'node:module'
import { connect as netConnect, type Socket } from 'node:net'
import {
  AuthError,
  ClosedError,
  ConnectionError,
  deserializeError,
  ErrorCode,
  PayloadTooLargeError,
  ProtocolError,
  type UnipcError,
} from '@unipc/core/spi'
import { type Endpoint, loadPem } from '../endpoint.js'
import { newNonce, proof, verifyProof } from '../wire/auth.js'
import { encodeFrame, type Field, FrameReader, fieldsSize } from '../wire/frames.js'
import { decodeValue, type WireValue } from '../wire/msgpack.js'
import type { Payload } from '../wire/parts.js'
import { AUTH_CONTEXT_CLIENT, AUTH_CONTEXT_HUB, Feature, PROTOCOL_VERSION, T } from '../wire/protocol.js'
import { onreadFor } from '../wire/socket-reads.js'
import { FrameWriter } from '../wire/writer.js'
import { Confirmations } from './confirmations.js'
import { deliverFields, messageData, pushedRid } from './hot-frames.js'

const CONNECT_TIMEOUT_MS = 10_000
/** What a confirmation read by a hot reader resolves with (nobody reads the fields of a Pushed). */
const CONFIRMED: WireValue[] = []

interface Pending {
  resolve(msg: WireValue[]): void
  reject(err: Error): void
}

/** What a link reports to its owner. */
export interface LinkEvents {
  /** A frame that is not a reply (deliveries, changes, events, messages, requests). */
  onFrame(msg: WireValue[]): void
  /**
   * A `[Message, data]` frame, read without the generic decoder (the reply path of every request);
   * without this handler such frames go to `onFrame`.
   */
  onMessage?(data: Uint8Array): void
  /**
   * A `[Deliver, consumerId, tag, redelivered, data]` frame, read without the generic decoder (every
   * command a worker takes); without this handler such frames go to `onFrame`.
   */
  onDeliver?(consumerId: number, tag: number, redelivered: boolean, data: Uint8Array): void
  /** The link is gone (not called when the owner closed it). */
  onClose(cause: Error): void
}

/** An open, authenticated connection to a hub. */
export class Link {
  readonly #pending = new Map<number, Pending>()
  /** Dispatches not yet confirmed, in rid order. */
  readonly #dispatches = new Confirmations<WireValue[]>()
  /** Enqueues not yet confirmed, in rid order. */
  readonly #pushes = new Confirmations<WireValue[]>()
  #nextRid = 1
  #closed = false
  #writer: FrameWriter
  /** Acknowledgements of this tick not yet written, `[consumerId, tag, …]` (hubs with `Feature.Acks`). */
  #acks: number[] = []
  /** Largest frame body the hub accepts. */
  maxFrame: number
  /** Feature bits the other side announced in its Welcome (see `Feature`). */
  features = 0

  private constructor(
    readonly socket: Socket,
    readonly endpoint: Endpoint,
    maxFrame: number,
    readonly events: LinkEvents,
  ) {
    this.#writer = new FrameWriter(socket, () => this.#writeAcks())
    this.maxFrame = maxFrame
  }

  /**
   * Connects and authenticates.
   * @throws ConnectionError (nothing listens, timeout), AuthError (wrong or missing token, refused
   *   certificate), ProtocolError (not a unipc hub or another protocol version)
   * @param connectTimeout - ms to connect and authenticate (default 10 s)
   */
  static open(
    endpoint: Endpoint,
    address: string,
    component: string | undefined,
    events: LinkEvents,
    connectTimeout = CONNECT_TIMEOUT_MS,
  ): Promise<Link> {
    return new Promise<Link>((resolve, reject) => {
      let link: Link | undefined
      let settled = false
      let greeted = false
      const clientNonce = newNonce()
      const fail = (err: Error): void => {
        if (settled) {
          if (link) link.#lost(err)
          return
        }
        settled = true
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }
      const timer = setTimeout(
        () =>
          fail(
            new ConnectionError(`no answer from the hub at ${endpoint.display} within ${connectTimeout} ms`),
          ),
        connectTimeout,
      )
      const reader = new FrameReader(64 * 1024, {
        frame: (body) => {
          if (link) {
            if (events.onMessage) {
              const data = messageData(body)
              if (data) {
                events.onMessage(data)
                return
              }
            }
            if (events.onDeliver) {
              const d = deliverFields(body)
              if (d) {
                events.onDeliver(d.consumerId, d.tag, d.redelivered, d.data)
                return
              }
            }
            const rid = pushedRid(body)
            if (rid >= 0) {
              link.#pushes.confirm(rid, CONFIRMED)
              return
            }
          }
          let msg: WireValue
          try {
            msg = decodeValue(body)
            if (!Array.isArray(msg)) throw new ProtocolError('a frame must be an array')
          } catch (err) {
            reader.stop()
            fail(err as Error)
            return
          }
          if (link) {
            link.#onFrame(msg)
            return
          }
          handshake(msg)
        },
        error: (err) => fail(err),
      })
      const socket = dial(endpoint, reader)
      const handshake = (msg: WireValue[]): void => {
        const type = msg[0]
        if (type === T.Hello) {
          greeted = true
          const [, version, nonce, authRequired] = msg
          if (version !== PROTOCOL_VERSION) {
            fail(
              new ProtocolError(
                `the hub at ${endpoint.display} speaks protocol ${String(version)}, this client ${PROTOCOL_VERSION}: upgrade the older side`,
              ),
            )
            return
          }
          if (authRequired === true && !endpoint.token) {
            fail(
              new AuthError(
                `the hub at ${endpoint.display} requires a token: add ?token=…, set UNIPC_TOKEN or pass { transport: { token } }`,
              ),
            )
            return
          }
          const p =
            endpoint.token && nonce instanceof Uint8Array
              ? proof(endpoint.token, AUTH_CONTEXT_CLIENT, nonce)
              : null
          socket.write(
            encodeFrame([T.Auth, PROTOCOL_VERSION, p, address, component ?? null, clientNonce]) as Buffer,
          )
          return
        }
        if (type === T.Welcome) {
          const [, , , maxFrame, hubProof, features] = msg
          if (endpoint.token && !verifyProof(endpoint.token, AUTH_CONTEXT_HUB, clientNonce, hubProof)) {
            fail(new AuthError(`the hub at ${endpoint.display} could not prove it knows the token`))
            return
          }
          settled = true
          clearTimeout(timer)
          link = new Link(
            socket,
            endpoint,
            typeof maxFrame === 'number' ? maxFrame : endpoint.maxFrame,
            events,
          )
          if (typeof features === 'number') link.features = features
          reader.maxFrame = Math.max(endpoint.maxFrame, link.maxFrame)
          resolve(link)
          return
        }
        if (type === T.Fail) {
          fail(failError(msg, endpoint))
          return
        }
        fail(new ProtocolError(`unexpected frame type ${String(type)} during the handshake`))
      }
      // With TLS 1.3 the hub checks the client certificate after the client thinks it is connected:
      // a TLS link that dies before the hub's Hello was refused for its certificate.
      const refusedCert = (): AuthError =>
        new AuthError(
          `the hub at ${endpoint.display} refused this client's TLS certificate: check cert and key, and that the hub's CA signed them`,
        )
      socket.on('error', (err) =>
        fail(endpoint.kind === 'tls' && !greeted && !link ? refusedCert() : socketError(err, endpoint)),
      )
      socket.on('close', () =>
        fail(
          endpoint.kind === 'tls' && !greeted && !link
            ? refusedCert()
            : new ConnectionError(`the connection to the hub at ${endpoint.display} closed`),
        ),
      )
    })
  }

  /** Sends a frame that expects a reply (`fields` without the request id, which is inserted second). */
  request(type: number, ...fields: WireValue[]): Promise<WireValue[]> {
    if (this.#closed)
      return Promise.reject(new ConnectionError(`not connected to the hub at ${this.endpoint.display}`))
    const rid = this.#nextRid++
    return new Promise((resolve, reject) => {
      try {
        this.post([type, rid, ...fields])
      } catch (err) {
        reject(err)
        return
      }
      this.#pending.set(rid, { resolve, reject })
    })
  }

  /**
   * Sends a Dispatch. The promise rejects at once when the hub finds no server; success is
   * confirmed later by a cumulative `Dispatched` (callers do not wait for it: they wait for the reply).
   */
  dispatch(method: string, data: Payload): Promise<void> {
    return this.#tracked(this.#dispatches, T.Dispatch, method, data).then(() => {})
  }

  /**
   * Queues a command: Enqueue (confirmed by a cumulative Pushed) when the hub supports it, else Push.
   * `redelivered` (hubs with `Feature.DirectCommands`) flags it for its next worker.
   */
  push(queue: string, data: Uint8Array, redelivered = false): Promise<unknown> {
    if ((this.features & Feature.Pushed) === 0) return this.request(T.Push, queue, data)
    return this.#tracked(this.#pushes, T.Enqueue, queue, data, redelivered)
  }

  /**
   * Sends `[type, rid, name, data]` (`[…, true]` when `flag`) and waits in `waiting` for its
   * (cumulative) confirmation.
   */
  #tracked(
    waiting: Confirmations<WireValue[]>,
    type: number,
    name: string,
    data: Payload,
    flag = false,
  ): Promise<unknown> {
    if (this.#closed)
      return Promise.reject(new ConnectionError(`not connected to the hub at ${this.endpoint.display}`))
    const rid = this.#nextRid++
    return new Promise((resolve, reject) => {
      try {
        this.post(flag ? [type, rid, name, data as Uint8Array, true] : [type, rid, name, data])
      } catch (err) {
        reject(err)
        return
      }
      waiting.add(rid, resolve, reject)
    })
  }

  /**
   * Sends a frame that has no reply.
   * @throws PayloadTooLargeError when the frame exceeds the hub's limit; ConnectionError when closed
   */
  post(fields: Field[]): void {
    if (this.#closed) throw new ConnectionError(`not connected to the hub at ${this.endpoint.display}`)
    const size = fieldsSize(fields)
    if (size > this.maxFrame) throw new PayloadTooLargeError(size, this.maxFrame)
    this.#writer.sendFields(fields, size)
  }

  /**
   * Acknowledges a delivery. With a hub that takes `Acks`, the acknowledgements of one tick leave
   * as one frame per consumer at the end of the write, after every reply queued in that tick.
   */
  ack(consumerId: number, tag: number): void {
    if (this.#closed) return
    if ((this.features & Feature.Acks) === 0) {
      this.post([T.Ack, consumerId, tag])
      return
    }
    this.#acks.push(consumerId, tag)
    this.#writer.schedule()
  }

  /** Writes the tick's acknowledgements (FrameWriter's beforeFlush): one `Acks` frame per run of one consumer. */
  #writeAcks(): void {
    const acks = this.#acks
    const n = acks.length
    if (n === 0) return
    this.#acks = []
    let i = 0
    while (i < n) {
      const id = acks[i] as number
      const frame: WireValue[] = [T.Acks, id]
      while (i < n && acks[i] === id) {
        frame.push(acks[i + 1] as number)
        i += 2
      }
      this.#writer.sendFields(frame)
    }
  }

  /** Closes the link; pending requests reject with ConnectionError. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#writer.flush()
    this.socket.end()
    setTimeout(() => this.socket.destroy(), 500).unref()
    // Closed by its owner: the bus is closing, so whatever still waits fails as closed, not as lost.
    this.#failPending(new ClosedError(`the connection to the hub at ${this.endpoint.display}`))
  }

  /** True once closed or lost. */
  get closed(): boolean {
    return this.#closed
  }

  #onFrame(msg: WireValue[]): void {
    const type = msg[0]
    if (type === T.Dispatched || type === T.Pushed) {
      ;(type === T.Dispatched ? this.#dispatches : this.#pushes).confirm(msg[1] as number, msg)
      return
    }
    if (type === T.Ok || type === T.Value || type === T.Entries || type === T.Fail) {
      const rid = msg[1]
      if (rid === 0 && type === T.Fail) {
        this.#lost(failError(msg, this.endpoint))
        return
      }
      const p = this.#pending.get(rid as number)
      if (!p) {
        // A failed Dispatch or Enqueue (their successes are confirmed cumulatively).
        if (type === T.Fail) {
          const err = failError(msg, this.endpoint)
          if (!this.#dispatches.fail(rid as number, err)) this.#pushes.fail(rid as number, err)
        }
        return
      }
      this.#pending.delete(rid as number)
      if (type === T.Fail) p.reject(failError(msg, this.endpoint))
      else p.resolve(msg)
      return
    }
    this.events.onFrame(msg)
  }

  #lost(cause: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.socket.destroy()
    this.#failPending(cause)
    this.events.onClose(cause)
  }

  #failPending(cause: Error): void {
    const err =
      cause instanceof ConnectionError
        ? cause
        : new ConnectionError(`lost the hub at ${this.endpoint.display}: ${cause.message}`, { cause })
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    this.#dispatches.failAll(err)
    this.#pushes.failAll(err)
    for (const p of pending) p.reject(err)
  }
}

/**
 * Connects to the endpoint, feeding `reader` everything received: unix and TCP sockets read
 * straight into the reader's buffers (node:net's `onread`), so a large frame is never copied in
 * user space; TLS hands over the chunks it decrypted.
 */
function dial(endpoint: Endpoint, reader: FrameReader): Socket {
  const onread = onreadFor(reader)
  if (endpoint.kind === 'unix') return netConnect({ path: endpoint.path, onread })
  if (endpoint.kind === 'tcp') {
    const s = netConnect({ host: endpoint.host, port: endpoint.port, onread })
    s.setNoDelay(true)
    return s
  }
  const { ca, cert, key, servername } = endpoint.tls
  const s = loadTls().connect({
    host: endpoint.host,
    port: endpoint.port,
    ca: loadPem(ca),
    cert: loadPem(cert),
    key: loadPem(key),
    servername: servername ?? (isIp(endpoint.host) ? undefined : endpoint.host),
  })
  s.setNoDelay(true)
  s.on('data', (chunk: Buffer) => reader.push(chunk))
  return s
}

/**
 * node:tls, loaded on the first TLS connection rather than with the package: it adds half a
 * megabyte to the V8 heap of every process that only uses unix or TCP sockets. `dial` is
 * synchronous, hence `require` (node:tls is a builtin, so this never touches the disk).
 */
const loadTls = (): typeof import('node:tls') => createRequire(import.meta.url)('node:tls')

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}

function failError(msg: WireValue[], endpoint: Endpoint): UnipcError {
  const [, , code, message, detail] = msg
  const text = typeof message === 'string' ? message : 'the hub refused the operation'
  if (code === ErrorCode.Auth) return new AuthError(`${text} (hub ${endpoint.display})`)
  if (code === ErrorCode.PayloadTooLarge && typeof detail === 'string') {
    const [size, limit] = detail.split('/').map(Number)
    return new PayloadTooLargeError(size ?? 0, limit ?? 0)
  }
  if (code === ErrorCode.Protocol) return new ProtocolError(text)
  const data = typeof detail === 'string' ? { target: detail } : undefined
  return deserializeError({
    name: 'Error',
    message: text,
    code: typeof code === 'string' ? code : undefined,
    data,
  })
}

/** Errors the OS or TLS gives when connecting, turned into unipc errors (the errno stays as `cause`). */
function socketError(err: NodeJS.ErrnoException, endpoint: Endpoint): Error {
  const code = err.code ?? ''
  if (/CERT|SSL|TLS|ALERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|alert/i.test(err.message))
    return new AuthError(
      `TLS to the hub at ${endpoint.display} was refused: ${err.message}; check ca, cert and key`,
      {
        cause: err,
      },
    )
  return new ConnectionError(`cannot reach the hub at ${endpoint.display}: ${err.message}`, { cause: err })
}

/** True when an error means nothing listens at the endpoint (so a hub may be auto-started). */
export function isNothingListening(err: unknown): boolean {
  const code = ((err as { cause?: NodeJS.ErrnoException }).cause as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ECONNREFUSED'
}
