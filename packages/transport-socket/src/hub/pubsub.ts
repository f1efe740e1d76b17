/**
 * Live publish/subscribe in the hub with the core's pattern syntax. Exact-channel subscriptions
 * are found by hash; wildcard patterns are tested one by one, and the resulting target list is
 * remembered per channel until a subscription changes. Events are droppable: a subscriber whose
 * outbound buffer is over its limit loses them (counted), it never makes the hub grow.
 * @module
 */
import { compilePattern } from '@unipc/core/spi'
import { encodeFrame } from '../wire/frames.js'
import type { WireValue } from '../wire/msgpack.js'
import { T } from '../wire/protocol.js'
import type { Peer } from './peer.js'

/** Channels whose target lists are remembered; past it the cache starts over (channels with ids in them). */
const ROUTE_CACHE_LIMIT = 4096

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
  /** Matching subscriptions per channel published to since the last subscription change. */
  #routes = new Map<string, readonly Subscription[]>()

  /** Delivers to every matching subscription. */
  publish(channel: string, data: Uint8Array): void {
    const targets = this.#routes.get(channel) ?? this.#route(channel)
    const n = targets.length
    if (n === 0) return
    // The frame is encoded once per subscription id (subscribers' ids mostly coincide: each
    // process numbers its own subscriptions from 1) and the same bytes are queued for every
    // subscriber: no copy per subscriber in the hub, the kernel copies them out of one buffer.
    if (n === 1) {
      // One subscriber: encoded straight into its connection's batch.
      const s = targets[0] as Subscription
      s.peer.sendDroppable([T.Event, s.id, channel, data])
      return
    }
    const fields: WireValue[] = [T.Event, 0, channel, data]
    let lastId = -1
    let frame: Buffer | [Buffer, Uint8Array] | undefined
    for (let i = 0; i < n; i++) {
      const s = targets[i] as Subscription
      if (s.id !== lastId || !frame) {
        lastId = s.id
        fields[1] = s.id
        frame = encodeFrame(fields)
      }
      s.peer.sendDroppableFrame(frame)
    }
  }

  #route(channel: string): readonly Subscription[] {
    const targets: Subscription[] = []
    const exact = this.#exact.get(channel)
    if (exact) for (const s of exact) targets.push(s)
    for (const s of this.#wild) if (s.matches(channel)) targets.push(s)
    // Grouped by id so that runs of equal ids share one encoded frame.
    targets.sort((a, b) => a.id - b.id)
    if (this.#routes.size >= ROUTE_CACHE_LIMIT) this.#routes = new Map()
    this.#routes.set(channel, targets)
    return targets
  }

  /**
   * Subscribes a peer.
   * @throws InvalidArgumentError when the pattern is malformed
   */
  subscribe(peer: Peer, id: number, pattern: string): void {
    const matches = compilePattern(pattern)
    this.unsubscribe(peer, id)
    const s: Subscription = { peer, id, pattern, matches }
    this.#routes = new Map()
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
    this.#routes = new Map()
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
