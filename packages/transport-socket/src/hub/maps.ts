/**
 * Key/value maps in the hub with change notification to watchers on every connection.
 * @module
 */
import { T } from '../wire/protocol.js'
import { own, type Peer } from './peer.js'

interface Watcher {
  readonly peer: Peer
  readonly id: number
  readonly map: string
}

/** All maps of one hub. */
export class MapBroker {
  readonly #maps = new Map<string, Map<string, Uint8Array>>()
  readonly #watchers = new Map<string, Set<Watcher>>()
  readonly #byKey = new Map<string, Watcher>()

  /** Called with the map name after every change (for state snapshots). */
  onChange: (map: string) => void = () => {}

  /** Reads one key. */
  get(map: string, key: string): Uint8Array | undefined {
    return this.#maps.get(map)?.get(key)
  }

  /** Reads a whole map. */
  getAll(map: string): ReadonlyMap<string, Uint8Array> {
    return this.#maps.get(map) ?? new Map()
  }

  /** Every map (for snapshots). */
  all(): ReadonlyMap<string, ReadonlyMap<string, Uint8Array>> {
    return this.#maps
  }

  /** Writes keys, then notifies watchers of each. */
  set(map: string, entries: [string, Uint8Array][]): void {
    let m = this.#maps.get(map)
    if (!m) {
      m = new Map()
      this.#maps.set(map, m)
    }
    for (const [k, v] of entries) m.set(k, own(v))
    this.onChange(map)
    const watchers = this.#watchers.get(map)
    if (!watchers) return
    for (const [k] of entries) {
      const v = m.get(k) as Uint8Array
      for (const w of watchers) w.peer.send([T.Change, w.id, k, v])
    }
  }

  /** Deletes keys, then notifies watchers of each key that existed. */
  delete(map: string, keys: string[]): void {
    const m = this.#maps.get(map)
    if (!m) return
    const gone = keys.filter((k) => m.delete(k))
    if (m.size === 0) this.#maps.delete(map)
    if (gone.length === 0) return
    this.onChange(map)
    const watchers = this.#watchers.get(map)
    if (!watchers) return
    for (const k of gone) for (const w of watchers) w.peer.send([T.Change, w.id, k, null])
  }

  /** Starts notifying a peer of changes to `map`. */
  watch(peer: Peer, id: number, map: string): void {
    this.unwatch(peer, id)
    const w: Watcher = { peer, id, map }
    this.#byKey.set(`${peer.id}:${id}`, w)
    let set = this.#watchers.get(map)
    if (!set) {
      set = new Set()
      this.#watchers.set(map, set)
    }
    set.add(w)
  }

  /** Stops one watch. */
  unwatch(peer: Peer, id: number): void {
    const key = `${peer.id}:${id}`
    const w = this.#byKey.get(key)
    if (!w) return
    this.#byKey.delete(key)
    const set = this.#watchers.get(w.map)
    set?.delete(w)
    if (set?.size === 0) this.#watchers.delete(w.map)
  }

  /** Removes every watch of a peer. */
  dropPeer(peer: Peer): void {
    for (const w of [...this.#byKey.values()]) if (w.peer === peer) this.unwatch(peer, w.id)
  }

  /** Replaces all maps (loading a snapshot). */
  load(maps: Map<string, Map<string, Uint8Array>>): void {
    for (const [name, m] of maps) this.#maps.set(name, m)
  }
}
