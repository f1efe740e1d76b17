/**
 * Requests straight from caller to server, without the broker on the way (docs/protocol/shm.md,
 * "Direct dispatch"). The broker only knows who serves what: the first request for a method asks
 * it (Lookup) for the method's servers, and it pushes every later change (Members). The caller
 * picks a server round-robin and writes the request on its direct link to that server's bus; the
 * server answers Done on the same link when the request is finished (the reply itself goes to the
 * caller's inbox) or Refused when it no longer serves. When that bus's link closes with requests
 * not Done, each caller gets the core's lost-call reply at once.
 *
 * The broker stays the authority: a request whose server list is empty here (perhaps only not yet
 * updated), was refused, or found no link goes through the broker (Dispatch), which forwards it or
 * answers NoHandlerError.
 * @module
 */
import { failedCallReply, lostCallReply } from '@unipc/core/spi'
import { InflightTable } from './inflight.js'
import { type Frame, joinPayload, type Payload } from './link.js'
import type { Peers } from './peers.js'

/** One server of a method: the inbox address of its bus and its server id there. */
interface Target {
  readonly address: string
  readonly sid: number
}

interface Method {
  servers: Target[]
  next: number
}

/** What the dispatcher needs from the transport. */
export interface DispatchHost {
  /** This bus's inbox address (requests to its own servers are handed over in-process). */
  readonly address: string
  /** Asks the broker for a method's servers (and to be told of changes). */
  lookup(method: string): Promise<Target[]>
  /** Dispatches through the broker: it forwards to a server or rejects with NoHandlerError. */
  viaBroker(method: string, data: Payload): Promise<void>
  /** Runs one of this bus's own servers; false when it does not serve `sid` (any more). */
  serveLocally(sid: number, data: Uint8Array): boolean
  /** Hands a frame to this bus's inbox (lost-call replies). */
  toInbox(frame: Uint8Array): void
}

/** Reads `[u32 count]([str address][u32 sid])*` (a Lookup reply or a Members push). */
export function readTargets(f: Frame): Target[] {
  const r = f.fields
  const n = r.u32()
  const out: Target[] = []
  for (let i = 0; i < n; i++) out.push({ address: r.str(), sid: r.u32() })
  return out
}

/** The caller side of direct dispatch for one bus. */
export class Dispatcher {
  readonly #methods = new Map<string, Method>()
  readonly #lookups = new Map<string, Promise<void>>()
  readonly #inflight = new InflightTable()

  constructor(
    private readonly host: DispatchHost,
    private readonly peers: Peers,
  ) {}

  /**
   * Hands `data` to one server of `method`. A direct request returns nothing (no promise per
   * call): should it still fail (refused, then no handler), the caller's inbox gets the error.
   * Through the broker, or while the method is being looked up, it returns the promise of that.
   */
  dispatch(method: string, data: Payload): Promise<void> | undefined {
    // (No closure in here: one would make V8 allocate a context for every call.)
    const known = this.#methods.get(method)
    if (!known) return this.#dispatchLater(method, data)
    const list = known.servers
    if (list.length === 0) return this.host.viaBroker(method, data)
    const target = list[known.next++ % list.length] as Target
    if (known.next >= list.length) known.next = 0
    if (target.address === this.host.address) {
      this.#dispatchHere(method, data, target.sid)
      return undefined
    }
    const did = this.#inflight.add(method, data, target.address)
    if (!this.peers.request(target.address, target.sid, did, data)) {
      this.#inflight.done(did)
      return this.host.viaBroker(method, data)
    }
    return undefined
  }

  /** Dispatches once the broker said who serves `method`. */
  #dispatchLater(method: string, data: Payload): Promise<void> | undefined {
    return this.#lookup(method).then(() => this.dispatch(method, data))
  }

  /** Hands a request to this bus's own server `sid`, in a microtask (still asynchronous). */
  #dispatchHere(method: string, data: Payload, sid: number): void {
    // Parts are joined now: the application may reuse its body once this returns.
    const bytes = joinPayload(data)
    queueMicrotask(() => {
      if (!this.host.serveLocally(sid, bytes)) this.#retry(method, bytes)
    })
  }

  /** Sends a request again through the broker; its error (NoHandlerError…) goes to the inbox. */
  #retry(method: string, data: Payload): void {
    this.host.viaBroker(method, data).catch((err: unknown) => this.#failCall(data, err))
  }

  /** Fails the call of request `data` with `err`, as the server's error reply would. */
  #failCall(data: Payload, err: unknown): void {
    const reply = failedCallReply(joinPayload(data), err)
    if (reply) this.host.toInbox(reply.frame)
  }

  #lookup(method: string): Promise<void> {
    let p = this.#lookups.get(method)
    if (!p) {
      p = this.host.lookup(method).then(
        (servers) => {
          this.#lookups.delete(method)
          // A Members push may have come first (it follows the reply on the same ring: never).
          if (!this.#methods.has(method)) this.#methods.set(method, { servers, next: 0 })
        },
        (err: unknown) => {
          this.#lookups.delete(method)
          throw err
        },
      )
      this.#lookups.set(method, p)
    }
    return p
  }

  /** The broker's news: `method` is now served by `servers`. */
  members(method: string, servers: Target[]): void {
    const m = this.#methods.get(method)
    if (m) {
      m.servers = servers
      if (m.next >= servers.length) m.next = 0
    }
  }

  /** A server finished request `did` (its reply went to the caller's inbox before this). */
  done(did: number): void {
    this.#inflight.done(did)
  }

  /** A server's bus no longer serves the request: the broker decides where it goes now. */
  refused(did: number): void {
    const entry = this.#inflight.take(did)
    if (entry) this.#retry(entry.method, entry.data)
  }

  /**
   * The link to `address` is gone. Requests that never reached it go through the broker; requests
   * it held fail at once with the core's lost-call reply naming the dead process.
   */
  gone(address: string, delivered: boolean, who: string): void {
    for (const entry of this.#inflight.takeAll(address)) {
      if (!delivered) {
        this.#retry(entry.method, entry.data)
        continue
      }
      const lost = lostCallReply(
        joinPayload(entry.data),
        `the shm peer serving this call died: ${who} exited before replying`,
      )
      if (lost) this.host.toInbox(lost.frame)
    }
    for (const m of this.#methods.values()) {
      const kept = m.servers.filter((t) => t.address !== address)
      if (kept.length !== m.servers.length) {
        m.servers = kept
        if (m.next >= kept.length) m.next = 0
      }
    }
  }

  /** Forgets every method's servers (a new broker: ask again); requests in flight stay. */
  reset(): void {
    this.#methods.clear()
  }

  /** Forgets every request in flight (the bus closes or breaks: the core fails its calls). */
  clear(): void {
    this.#inflight.clear()
  }
}
