/**
 * Inboxes and method servers in the hub: `send` routes to the connection that owns an address;
 * `dispatch` picks one server of a method round-robin.
 * @module
 */
import { NoHandlerError } from '@unipc/core/spi'
import { T } from '../wire/protocol.js'
import type { Peer } from './peer.js'

interface Server {
  readonly peer: Peer
  readonly id: number
  readonly method: string
}

/** Inboxes and servers of one hub. */
export class MessagingBroker {
  readonly #inboxes = new Map<string, Peer>()
  readonly #servers = new Map<string, { list: Server[]; next: number }>()
  readonly #byKey = new Map<string, Server>()
  /** Messages sent to addresses nobody owns (the peer has gone). */
  undeliverable = 0

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
  serve(peer: Peer, id: number, method: string): void {
    this.unserve(peer, id)
    const s: Server = { peer, id, method }
    this.#byKey.set(`${peer.id}:${id}`, s)
    let entry = this.#servers.get(method)
    if (!entry) {
      entry = { list: [], next: 0 }
      this.#servers.set(method, entry)
    }
    entry.list.push(s)
  }

  /** Removes one server. */
  unserve(peer: Peer, id: number): void {
    const key = `${peer.id}:${id}`
    const s = this.#byKey.get(key)
    if (!s) return
    this.#byKey.delete(key)
    const entry = this.#servers.get(s.method)
    if (!entry) return
    entry.list = entry.list.filter((x) => x !== s)
    if (entry.list.length === 0) this.#servers.delete(s.method)
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
    s.peer.send([T.Request, s.id, data])
  }

  /** Removes a peer's inbox (unless another connection took it over) and its servers. */
  dropPeer(peer: Peer): void {
    if (this.#inboxes.get(peer.address) === peer) this.#inboxes.delete(peer.address)
    for (const s of [...this.#byKey.values()]) if (s.peer === peer) this.unserve(peer, s.id)
  }
}
