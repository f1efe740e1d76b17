/**
 * The caller side of direct links. The first request for a method asks the hub for the method's
 * servers (`Servers`; the hub then pushes `Members` on every change); requests then go round-robin
 * straight to a server over a direct link, opened on first use. While a link connects, what is sent
 * on it waits in order; when it cannot connect, that server is reached through the hub for good (so
 * a server never sees one caller on two paths, which keeps each call's frames on one path).
 *
 * A request on a direct link is in flight until the server reports it `Done`. When the link dies,
 * in-flight calls fail at once with the core's lost-call reply (ConnectionError); a request the
 * server `Bounce`s (it stopped serving) or never read before its `Bye` is routed through the hub,
 * which finds another server or answers NoHandlerError.
 *
 * Links also carry commands a sender hands straight to a worker (see direct-commands.ts): the
 * worker reports each `Done` (its handler finished) or `Bounce`s it (that consumer stopped); on
 * `Bye` or a lost link, every command not Done goes back to the sender's {@link CommandSink}.
 * @module
 */
import { ConnectionError, failedCallReply, type Logger, lostCallReply } from '@unipc/core/spi'
import { type Endpoint, parseEndpoint } from '../endpoint.js'
import type { Field } from '../wire/frames.js'
import type { WireValue } from '../wire/msgpack.js'
import { joined, type Payload } from '../wire/parts.js'
import { T } from '../wire/protocol.js'
import { type InflightCall, InflightTable, type Settle } from './inflight.js'
import { Link } from './link.js'

/** What the router needs from its transport. */
export interface RouterHost {
  readonly logger: Logger
  /** This bus's inbox address and component, announced on direct links. */
  readonly address: string
  readonly component: string | undefined
  /** The hub endpoint (token, sizes and TLS files carry over to direct endpoints). */
  readonly endpoint: Endpoint
  /** Asks the hub for the servers of a method. */
  servers(method: string): Promise<WireValue[]>
  /** Dispatches through the hub. */
  hubDispatch(method: string, data: Payload): Promise<void>
  /** Sends through the hub. */
  hubSend(to: string, data: Payload): void
  /** Delivers to this bus's own inbox. */
  inbox(data: Uint8Array): void
}

/**
 * How long a caller waits for a server's direct endpoint before using the hub instead: short,
 * because requests wait meanwhile and a server's endpoint may be unreachable from here (another
 * host behind a firewall that drops packets).
 */
const DIRECT_CONNECT_TIMEOUT_MS = 2000

interface Entry {
  readonly address: string
  readonly direct: string | null
  readonly serverId: number
  /** The link last used for this entry (looked up again once it is dead). */
  link: DirectLink | undefined
}

interface Listing {
  entries: Entry[]
  next: number
}

interface Waiter {
  readonly data: Payload
  resolve(): void
  reject(err: unknown): void
}

/**
 * A request on its way to a server. `settle` exists when the core holds a promise for it; on the
 * hot path (link open, servers known) there is none, and a late failure reaches the caller as an
 * error reply in its own inbox instead (see `fail`).
 */
type Call = InflightCall

/** A command a sender handed to a worker and holds until the worker reports it Done. */
export interface HeldCommand {
  readonly queue: string
  readonly data: Uint8Array
  /** Whether a worker may have run it before (the flag its next worker sees). */
  redelivered: boolean
}

/** Where commands on direct links report back (direct-commands.ts). */
export interface CommandSink {
  /** The worker finished the command. */
  acked(held: HeldCommand): void
  /** The command came back: `ran` when the worker may have started it (link lost after reading it). */
  returned(held: HeldCommand, ran: boolean): void
}

type Queued =
  | { call: Call; serverId: number }
  | { to: string; data: Payload }
  | { held: HeldCommand; consumerId: number }

/** Routes requests and control messages over direct links when it can, through the hub otherwise. */
export class DirectRouter {
  readonly #listings = new Map<string, Listing | Waiter[]>()
  /** Links by direct URL, and the same links by the server's inbox address. */
  readonly #links = new Map<string, DirectLink>()
  readonly #byAddress = new Map<string, DirectLink>()
  /** Direct URLs that could not be reached: those servers are called through the hub. */
  readonly #unreachable = new Set<string>()
  /** Where commands sent on direct links report back (set by the transport). */
  commands: CommandSink | undefined

  constructor(readonly host: RouterHost) {}

  /**
   * The link to the bus at `address` listening on `url` (opened on first use), or undefined when
   * that endpoint could not be reached before.
   */
  linkTo(address: string, url: string): DirectLink | undefined {
    if (this.#unreachable.has(url)) return undefined
    const link = this.#links.get(url)
    if (link && !link.dead) return link
    return this.#open({ address, direct: url, serverId: 0, link: undefined })
  }

  /** Whether `url` could not be reached before (its bus is reached through the hub for good). */
  unreachable(url: string): boolean {
    return this.#unreachable.has(url)
  }

  /** Every open or opening link (the transport hands their commands over when it closes). */
  links(): DirectLink[] {
    return [...this.#links.values()]
  }

  /**
   * Hands a request to one server of `method`. Returns nothing when it went straight onto an open
   * link (no promise per request); otherwise a promise that settles once the request was taken.
   */
  dispatch(method: string, data: Payload): Promise<void> | undefined {
    const listing = this.#listings.get(method)
    if (listing === undefined || Array.isArray(listing)) {
      return new Promise((resolve, reject) => {
        if (listing) {
          listing.push({ data, resolve, reject })
          return
        }
        this.#lookup(method, [{ data, resolve, reject }])
      })
    }
    const n = listing.entries.length
    if (n === 0) return this.host.hubDispatch(method, data)
    const e = listing.entries[listing.next] as Entry
    listing.next = listing.next + 1 >= n ? 0 : listing.next + 1
    let link = e.link
    if (link === undefined || link.dead) {
      if (e.direct === null || this.#unreachable.has(e.direct)) return this.host.hubDispatch(method, data)
      link = this.#links.get(e.direct) ?? this.#open(e)
      e.link = link
    }
    if (link.open) {
      link.write(method, data, undefined, e.serverId)
      return undefined
    }
    const l = link
    return new Promise((resolve, reject) =>
      l.request({ method, data, settle: { resolve, reject } }, e.serverId),
    )
  }

  /** @internal fails a call: through its promise, or with an error reply in the caller's inbox */
  fail(call: Call, err: unknown): void {
    if (call.settle) {
      call.settle.reject(err)
      return
    }
    const reply = failedCallReply(joined(call.data), err)
    if (reply) this.#deliver(reply.to, reply.frame)
  }

  /** @internal delivers a reply frame the transport made itself (to this bus, normally) */
  deliver(to: string, frame: Uint8Array): void {
    this.#deliver(to, frame)
  }

  #deliver(to: string, frame: Uint8Array): void {
    if (to === this.host.address) this.host.inbox(frame)
    else {
      try {
        this.host.hubSend(to, frame)
      } catch (err) {
        this.host.logger.debug('unipc: could not send a reply through the hub', err)
      }
    }
  }

  /** Sends over the direct link to `to` when one is open or opening; false: use the hub. */
  send(to: string, data: Payload): boolean {
    const link = this.#byAddress.get(to)
    if (!link) return false
    link.send(to, data)
    return true
  }

  /** The hub's new list of servers of `method`. */
  members(method: string, flat: WireValue[]): void {
    const listing = this.#listings.get(method)
    if (!listing || Array.isArray(listing)) return
    listing.entries = entries(flat)
    if (listing.next >= listing.entries.length) listing.next = 0
  }

  /** The hub link is gone: its server lists are stale (links to servers stay). */
  hubLost(): void {
    for (const [m, l] of this.#listings) if (!Array.isArray(l)) this.#listings.delete(m)
  }

  /** Closes every link (the transport is closing). */
  close(): void {
    for (const l of [...this.#links.values()]) l.close()
    this.#links.clear()
    this.#byAddress.clear()
    this.#listings.clear()
  }

  #lookup(method: string, waiters: Waiter[]): void {
    this.#listings.set(method, waiters)
    this.host.servers(method).then(
      (flat) => {
        this.#listings.set(method, { entries: entries(flat), next: 0 })
        for (const w of waiters) {
          const p = this.dispatch(method, w.data)
          if (p) p.then(w.resolve, w.reject)
          else w.resolve()
        }
      },
      (err) => {
        if (this.#listings.get(method) === waiters) this.#listings.delete(method)
        for (const w of waiters) w.reject(err)
      },
    )
  }

  #open(e: Entry): DirectLink {
    const url = e.direct as string
    const link = new DirectLink(this, url, e.address)
    this.#links.set(url, link)
    this.#byAddress.set(e.address, link)
    return link
  }

  /** @internal a link is gone (or never came up, when `unreachable`) */
  forget(link: DirectLink, unreachable: boolean): void {
    if (this.#links.get(link.url) === link) this.#links.delete(link.url)
    if (this.#byAddress.get(link.server) === link) this.#byAddress.delete(link.server)
    if (unreachable) this.#unreachable.add(link.url)
  }

  /** @internal routes a call through the hub after its direct link could not take it */
  viaHub(call: Call): void {
    this.host.hubDispatch(call.method, call.data).then(
      () => call.settle?.resolve(),
      (err) => this.fail(call, err),
    )
  }
}

/** One direct link from this caller to one server (or worker). */
export class DirectLink {
  #link: Link | undefined
  #queue: Queued[] | undefined = []
  #dead = false
  #nextTag = 1
  /** Requests written and not yet Done, by tag. */
  readonly #inflight = new InflightTable()
  /** Commands written and not yet Done, by tag (in tag order). */
  readonly #commands = new Map<number, HeldCommand>()

  constructor(
    readonly router: DirectRouter,
    readonly url: string,
    readonly server: string,
  ) {
    const host = router.host
    let endpoint: Endpoint
    try {
      endpoint = parseEndpoint(new URL(url), {
        token: host.endpoint.token ?? '',
        maxFrame: host.endpoint.maxFrame,
        tls: host.endpoint.tls,
      })
    } catch (err) {
      queueMicrotask(() => this.#unreachable(err as Error))
      return
    }
    Link.open(
      endpoint,
      host.address,
      host.component,
      {
        onFrame: (msg) => this.#onFrame(msg),
        onMessage: (data) => this.router.host.inbox(data),
        onClose: (cause) => this.#lost(cause),
      },
      DIRECT_CONNECT_TIMEOUT_MS,
    ).then(
      (link) => {
        if (this.#dead) {
          link.close()
          return
        }
        this.#link = link
        const queue = this.#queue ?? []
        this.#queue = undefined
        for (const q of queue) {
          if ('call' in q) this.write(q.call.method, q.call.data, q.call.settle, q.serverId)
          else if ('held' in q) this.#writeCommand(q.consumerId, q.held)
          else this.#post([T.Send, q.to, q.data])
        }
      },
      (err: Error) => this.#unreachable(err),
    )
  }

  /** True once connected (and not dead): requests are written at once. */
  get open(): boolean {
    return this.#link !== undefined && !this.#dead
  }

  /** True once closed, lost or found unreachable: the router looks the server up again. */
  get dead(): boolean {
    return this.#dead
  }

  request(call: Call, serverId: number): void {
    if (this.#queue) this.#queue.push({ call, serverId })
    else if (this.#dead) this.router.viaHub(call)
    else this.write(call.method, call.data, call.settle, serverId)
  }

  send(to: string, data: Payload): void {
    if (this.#queue) this.#queue.push({ to, data })
    else if (this.#dead) this.router.host.hubSend(to, data)
    else this.#post([T.Send, to, data])
  }

  /** Hands a command to consumer `consumerId` of the bus at the other end. */
  command(consumerId: number, held: HeldCommand): void {
    if (this.#queue) this.#queue.push({ held, consumerId })
    else if (this.#dead) this.router.commands?.returned(held, false)
    else this.#writeCommand(consumerId, held)
  }

  #writeCommand(consumerId: number, held: HeldCommand): void {
    const tag = this.#nextTag++
    try {
      ;(this.#link as Link).post([T.Deliver, consumerId, tag, held.redelivered, held.data])
    } catch (err) {
      this.router.host.logger.debug('unipc: could not write a command on a direct link', err)
      this.router.commands?.returned(held, false)
      return
    }
    this.#commands.set(tag, held)
  }

  /** Removes and returns every command not Done yet (the transport is closing). */
  takeCommands(): HeldCommand[] {
    const out: HeldCommand[] = []
    for (const q of this.#queue ?? []) if ('held' in q) out.push(q.held)
    if (this.#queue) this.#queue = this.#queue.filter((q) => !('held' in q))
    for (const held of this.#commands.values()) {
      held.redelivered = true
      out.push(held)
    }
    this.#commands.clear()
    return out
  }

  /** Gives back the commands written with a tag above `last` (never read) and, with `all`, the rest. */
  #returnCommands(last: number, all: boolean): void {
    const sink = this.router.commands
    if (!sink || this.#commands.size === 0) return
    for (const [tag, held] of [...this.#commands]) {
      if (tag <= last && !all) continue
      this.#commands.delete(tag)
      sink.returned(held, all)
    }
  }

  close(): void {
    this.#dead = true
    this.#queue = undefined
    this.#link?.close()
  }

  /** Writes a request on the open link (the caller checked `open`). */
  write(method: string, data: Payload, settle: Settle | undefined, serverId: number): void {
    const tag = this.#nextTag++
    try {
      ;(this.#link as Link).post([T.Request, serverId, tag, data])
    } catch (err) {
      this.router.fail({ method, data, settle }, err)
      return
    }
    this.#inflight.add(tag, method, data, settle)
  }

  #post(fields: Field[]): void {
    try {
      ;(this.#link as Link).post(fields)
    } catch (err) {
      this.router.host.logger.debug('unipc: could not send on a direct link', err)
    }
  }

  #onFrame(msg: WireValue[]): void {
    switch (msg[0]) {
      case T.Message:
        this.router.host.inbox(msg[1] as Uint8Array)
        return
      case T.Done:
        if (this.#commands.size === 0) {
          for (let i = 1; i < msg.length; i++) this.#inflight.finish(msg[i] as number)
          return
        }
        for (let i = 1; i < msg.length; i++) {
          const tag = msg[i] as number
          const held = this.#commands.get(tag)
          if (held === undefined) this.#inflight.finish(tag)
          else {
            this.#commands.delete(tag)
            this.router.commands?.acked(held)
          }
        }
        return
      case T.Bounce: {
        const tag = msg[1] as number
        const held = this.#commands.get(tag)
        if (held) {
          this.#commands.delete(tag)
          this.router.commands?.returned(held, false)
          return
        }
        const call = this.#inflight.take(tag)
        if (call) this.router.viaHub(call)
        return
      }
      case T.Bye: {
        // Whatever the server never read goes through the hub; what it read and did not finish is lost.
        const last = typeof msg[1] === 'number' ? msg[1] : 0
        for (const call of this.#inflight.takeAbove(last)) this.router.viaHub(call)
        this.#returnCommands(last, false)
        this.#lost(new ConnectionError(`the server at ${this.url} closed the direct link`))
        this.#link?.close()
        return
      }
      default:
        this.router.host.logger.debug(`unipc: ignored frame type ${String(msg[0])} on a direct link`)
    }
  }

  /** Could not connect: this server is reached through the hub from now on. */
  #unreachable(cause: Error): void {
    this.router.host.logger.debug(`unipc: no direct link to ${this.url}; using the hub`, cause)
    this.#dead = true
    this.router.forget(this, true)
    const queue = this.#queue ?? []
    this.#queue = undefined
    for (const q of queue) {
      if ('call' in q) this.router.viaHub(q.call)
      else if ('held' in q) this.router.commands?.returned(q.held, false)
      else {
        try {
          this.router.host.hubSend(q.to, q.data)
        } catch (err) {
          this.router.host.logger.debug('unipc: could not send through the hub', err)
        }
      }
    }
  }

  /** The link died: calls in flight on it fail now rather than at their timeout. */
  #lost(cause: Error): void {
    if (this.#dead) return
    this.#dead = true
    this.router.forget(this, false)
    this.#returnCommands(0, true)
    for (const call of this.#inflight.takeAbove(0)) {
      const lost = lostCallReply(
        joined(call.data),
        `the server handling the call (${this.server}) is gone: ${cause.message}`,
      )
      if (lost) {
        call.settle?.resolve()
        this.router.deliver(lost.to, lost.frame)
      } else call.settle?.reject(new ConnectionError(`lost the direct link to ${this.url}`, { cause }))
    }
  }
}

function entries(flat: WireValue[]): Entry[] {
  const out: Entry[] = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const address = flat[i]
    const direct = flat[i + 1]
    const serverId = flat[i + 2]
    if (typeof address !== 'string' || typeof serverId !== 'number') continue
    out.push({ address, direct: typeof direct === 'string' ? direct : null, serverId, link: undefined })
  }
  return out
}
