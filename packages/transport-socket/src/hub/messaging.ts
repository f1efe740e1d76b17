/**
 * Inboxes and method servers in the hub: `send` routes to the connection that owns an address;
 * `dispatch` picks one server of a method round-robin and remembers the request until the server
 * reports it done, so that when a server's connection dies its callers fail at once
 * (ConnectionError) instead of waiting for their timeout. It also introduces callers to servers:
 * `servers` lists a method's servers with their direct endpoints and keeps the caller informed of
 * changes, so requests can then travel caller ↔ server without the hub.
 * @module
 */
import { lostCallReply, NoHandlerError } from '@unipc/core/spi'
import type { WireValue } from '../wire/msgpack.js'
import { T } from '../wire/protocol.js'
import { ListFollowers } from './listings.js'
import type { Peer } from './peer.js'

interface Server {
  readonly peer: Peer
  readonly id: number
  readonly method: string
  /** Where the server accepts direct links, or null (hub path only). */
  readonly direct: string | null
}

/** Inboxes and servers of one hub. */
export class MessagingBroker {
  readonly #inboxes = new Map<string, Peer>()
  readonly #servers = new Map<string, { list: Server[]; next: number }>()
  readonly #byKey = new Map<string, Server>()
  /** Requests handed to a server and not yet done, per server connection id, by tag. */
  readonly #inflight = new Map<number, Map<number, Uint8Array>>()
  /** Connections told about each method's servers (they get `Members` on every change). */
  readonly #followers = new ListFollowers()
  #nextTag = 1
  /** Messages sent to addresses nobody owns (the peer has gone). */
  undeliverable = 0
  /** Requests routed through the hub (requests on direct links are not counted: the hub never sees them). */
  dispatched = 0

  /** Binds an address to a peer; returns the peer that owned it before, if any. */
  bind(peer: Peer): Peer | undefined {
    const before = this.#inboxes.get(peer.address)
    this.#inboxes.set(peer.address, peer)
    return before === peer ? undefined : before
  }

  /** Whether an address is bound. */
  has(address: string): boolean {
    return this.#inboxes.has(address)
  }

  /** Sends to an inbox; silently counts messages for addresses that are gone. */
  send(to: string, data: Uint8Array): void {
    const peer = this.#inboxes.get(to)
    if (peer) peer.send([T.Message, data])
    else this.undeliverable++
  }

  /** Registers a server of `method`. */
  serve(peer: Peer, id: number, method: string, direct: string | null = null): void {
    this.#remove(peer, id)
    const s: Server = { peer, id, method, direct }
    this.#byKey.set(`${peer.id}:${id}`, s)
    let entry = this.#servers.get(method)
    if (!entry) {
      entry = { list: [], next: 0 }
      this.#servers.set(method, entry)
    }
    entry.list.push(s)
    this.#notify(method)
  }

  /** Removes one server. */
  unserve(peer: Peer, id: number): void {
    const method = this.#remove(peer, id)
    if (method !== undefined) this.#notify(method)
  }

  /**
   * The servers of `method` as a flat `[address, directUrl|nil, serverId, …]` list; `peer` then gets
   * `[Members, method, list]` whenever it changes, until it disconnects.
   */
  servers(peer: Peer, method: string): WireValue[] {
    this.#followers.follow(peer, method)
    return this.#list(method)
  }

  #list(method: string): WireValue[] {
    const flat: WireValue[] = []
    for (const s of this.#servers.get(method)?.list ?? []) flat.push(s.peer.address, s.direct, s.id)
    return flat
  }

  #notify(method: string): void {
    this.#followers.tell(method, () => [T.Members, method, this.#list(method)])
  }

  /** Removes one server without telling anyone; returns its method. */
  #remove(peer: Peer, id: number): string | undefined {
    const key = `${peer.id}:${id}`
    const s = this.#byKey.get(key)
    if (!s) return undefined
    this.#byKey.delete(key)
    const entry = this.#servers.get(s.method)
    if (!entry) return s.method
    entry.list = entry.list.filter((x) => x !== s)
    if (entry.list.length === 0) this.#servers.delete(s.method)
    return s.method
  }

  /**
   * Hands a request to one server of `method`.
   * @throws NoHandlerError when nobody serves it
   */
  dispatch(method: string, data: Uint8Array): void {
    const entry = this.#servers.get(method)
    if (!entry) throw new NoHandlerError(method)
    const s = entry.list[entry.next % entry.list.length] as Server
    entry.next = (entry.next + 1) % entry.list.length
    const tag = this.#nextTag++
    this.dispatched++
    let inflight = this.#inflight.get(s.peer.id)
    if (!inflight) {
      inflight = new Map()
      this.#inflight.set(s.peer.id, inflight)
    }
    inflight.set(tag, data)
    s.peer.send([T.Request, s.id, tag, data])
  }

  /** A server finished a request. */
  done(peer: Peer, tag: number): void {
    this.#inflight.get(peer.id)?.delete(tag)
  }

  /** Removes a peer's inbox (unless another connection took it over) and its servers. */
  dropPeer(peer: Peer): void {
    if (this.#inboxes.get(peer.address) === peer) this.#inboxes.delete(peer.address)
    this.#followers.drop(peer)
    for (const s of [...this.#byKey.values()]) if (s.peer === peer) this.unserve(peer, s.id)
    const inflight = this.#inflight.get(peer.id)
    this.#inflight.delete(peer.id)
    if (!inflight) return
    const who = peer.address
    for (const data of inflight.values()) {
      const lost = lostCallReply(data, `the server handling the call (${who}) disconnected from the hub`)
      if (lost) this.send(lost.to, lost.frame)
    }
  }
}
