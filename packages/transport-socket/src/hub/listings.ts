/**
 * Connections that asked for a list (the servers of a method, the workers of a queue) and are
 * told whenever it changes, until they disconnect.
 * @module
 */
import type { WireValue } from '../wire/msgpack.js'
import type { Peer } from './peer.js'

/** Who follows which list, by list name. */
export class ListFollowers {
  readonly #byName = new Map<string, Set<Peer>>()
  /** The names each following connection follows, by connection id. */
  readonly #byPeer = new Map<number, Set<string>>()

  /** `peer` follows the list `name` from now on. */
  follow(peer: Peer, name: string): void {
    let set = this.#byName.get(name)
    if (!set) {
      set = new Set()
      this.#byName.set(name, set)
    }
    set.add(peer)
    let mine = this.#byPeer.get(peer.id)
    if (!mine) {
      mine = new Set()
      this.#byPeer.set(peer.id, mine)
    }
    mine.add(name)
  }

  /** Sends `frame()` (made only when someone follows) to every follower of `name`. */
  tell(name: string, frame: () => WireValue[]): void {
    const set = this.#byName.get(name)
    if (!set || set.size === 0) return
    const f = frame()
    for (const p of set) p.send(f)
  }

  /** Forgets a connection that went away. */
  drop(peer: Peer): void {
    for (const name of this.#byPeer.get(peer.id) ?? []) {
      const set = this.#byName.get(name)
      set?.delete(peer)
      if (set?.size === 0) this.#byName.delete(name)
    }
    this.#byPeer.delete(peer.id)
  }
}
