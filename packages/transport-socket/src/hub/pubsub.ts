/**
 * Live publish/subscribe in the hub with the core's pattern syntax. Exact-channel subscriptions
 * are found by hash; wildcard patterns are tested one by one. Events are droppable: a subscriber
 * whose outbound buffer is over its limit loses them (counted), it never makes the hub grow.
 * @module
 */
import { compilePattern } from '@unipc/core/spi'
import { encodeHead, encodeTail } from '../wire/frames.js'
import { T } from '../wire/protocol.js'
import type { Peer } from './peer.js'

/** Events at least this large are encoded per subscriber (the payload is not copied then anyway). */
const SHARED_TAIL_LIMIT = 16 * 1024

interface Subscription {
  readonly peer: Peer
  readonly id: number
  readonly pattern: string
  readonly matches: (channel: string) => boolean
}

/** All subscriptions of one hub. */
export class PubSubBroker {
  readonly #exact = new Map<string, Set<Subscription>>()
  readonly #wild = new Set<Subscription>()
  readonly #byKey = new Map<string, Subscription>()

  /** Delivers to every matching subscription. */
  publish(channel: string, data: Uint8Array): void {
    const exact = this.#exact.get(channel)
    const targets: Subscription[] = exact ? [...exact] : []
    for (const s of this.#wild) if (s.matches(channel)) targets.push(s)
    if (targets.length === 0) return
    if (targets.length === 1 || data.length >= SHARED_TAIL_LIMIT) {
      // One subscriber, or a large event that the encoder already sends without copying.
      for (const s of targets) s.peer.sendDroppable([T.Event, s.id, channel, data])
      return
    }
    // Several subscribers: the channel and data are encoded once; each gets its own small head.
    const tail = encodeTail([channel, data])
    for (const s of targets) s.peer.sendDroppableFrame(encodeHead([T.Event, s.id], 2, tail.length), tail)
  }

  /**
   * Subscribes a peer.
   * @throws InvalidArgumentError when the pattern is malformed
   */
  subscribe(peer: Peer, id: number, pattern: string): void {
    const matches = compilePattern(pattern)
    this.unsubscribe(peer, id)
    const s: Subscription = { peer, id, pattern, matches }
    this.#byKey.set(`${peer.id}:${id}`, s)
    if (pattern.includes('*') || pattern.includes('>')) this.#wild.add(s)
    else {
      let set = this.#exact.get(pattern)
      if (!set) {
        set = new Set()
        this.#exact.set(pattern, set)
      }
      set.add(s)
    }
  }

  /** Removes one subscription. */
  unsubscribe(peer: Peer, id: number): void {
    const key = `${peer.id}:${id}`
    const s = this.#byKey.get(key)
    if (!s) return
    this.#byKey.delete(key)
    this.#wild.delete(s)
    const set = this.#exact.get(s.pattern)
    set?.delete(s)
    if (set?.size === 0) this.#exact.delete(s.pattern)
  }

  /** Removes every subscription of a peer. */
  dropPeer(peer: Peer): void {
    for (const s of [...this.#byKey.values()]) if (s.peer === peer) this.unsubscribe(peer, s.id)
  }
}
