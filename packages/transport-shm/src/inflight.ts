/**
 * The caller's table of direct requests not yet Done (see dispatcher.ts).
 * @module
 */
import type { Payload } from './link.js'

/** A request in flight: what to dispatch again or fail should its server refuse it or die. */
export interface InflightRequest {
  readonly method: string
  readonly data: Payload
  readonly address: string
}

/**
 * Requests sent directly and not yet Done, by delivery id. Each has a slot, `did & mask`: no map
 * entry and no object per request. Ids go up by one; one whose slot still holds an older request
 * (a slow one) is skipped, and the table doubles once it is half full, so it stays at most twice
 * the requests in flight.
 */
export class InflightTable {
  /** Delivery id of each slot, 0 when free. */
  #dids: number[] = new Array<number>(64).fill(0)
  /**
   * Each request, until its server answers Done or Refused: a refused one is dispatched again.
   * Parts keep the application's body (as a socket keeps it until written); the call waits on this
   * request, so the body is still the caller's message.
   */
  #data: (Payload | undefined)[] = new Array<Payload | undefined>(64).fill(undefined)
  #methods: string[] = new Array<string>(64).fill('')
  /** The inbox address of the bus each went to. */
  #addresses: string[] = new Array<string>(64).fill('')
  #count = 0
  #last = 0

  /** Requests in flight. */
  get size(): number {
    return this.#count
  }

  /** Adds a request; returns its delivery id. */
  add(method: string, data: Payload, address: string): number {
    if (this.#count * 2 >= this.#dids.length) this.#grow()
    const mask = this.#dids.length - 1
    let did = this.#last
    do did = (did + 1) >>> 0 || 1
    while (this.#dids[did & mask] !== 0)
    this.#last = did
    const slot = did & mask
    this.#dids[slot] = did
    this.#data[slot] = data
    this.#methods[slot] = method
    this.#addresses[slot] = address
    this.#count++
    return did
  }

  /** Takes request `did` out; returns it, or undefined when it is not in flight. */
  take(did: number): InflightRequest | undefined {
    const slot = did & (this.#dids.length - 1)
    if (this.#dids[slot] !== did || did === 0) return undefined
    const entry = {
      method: this.#methods[slot] as string,
      data: this.#data[slot] as Payload,
      address: this.#addresses[slot] as string,
    }
    this.#free(slot)
    return entry
  }

  /** Forgets request `did` (it is Done); false when it was not in flight. */
  done(did: number): boolean {
    const slot = did & (this.#dids.length - 1)
    if (this.#dids[slot] !== did || did === 0) return false
    this.#free(slot)
    return true
  }

  /** Takes out every request sent to `address`, oldest first. */
  takeAll(address: string): InflightRequest[] {
    const out: { did: number; method: string; data: Payload; address: string }[] = []
    for (let slot = 0; slot < this.#dids.length; slot++) {
      const did = this.#dids[slot] as number
      if (did === 0 || this.#addresses[slot] !== address) continue
      out.push({ did, method: this.#methods[slot] as string, data: this.#data[slot] as Payload, address })
      this.#free(slot)
    }
    // Ids go up from the oldest (wrapping at 2^32): order by distance below the newest.
    const newest = this.#last
    return out.sort((x, y) => ((newest - y.did) >>> 0) - ((newest - x.did) >>> 0))
  }

  /** Forgets everything. */
  clear(): void {
    for (let slot = 0; slot < this.#dids.length; slot++) if (this.#dids[slot] !== 0) this.#free(slot)
  }

  #free(slot: number): void {
    this.#dids[slot] = 0
    this.#data[slot] = undefined
    this.#methods[slot] = ''
    this.#addresses[slot] = ''
    this.#count--
  }

  #grow(): void {
    const dids = this.#dids
    const data = this.#data
    const methods = this.#methods
    const addresses = this.#addresses
    const size = dids.length * 2
    const mask = size - 1
    this.#dids = new Array<number>(size).fill(0)
    this.#data = new Array<Payload | undefined>(size).fill(undefined)
    this.#methods = new Array<string>(size).fill('')
    this.#addresses = new Array<string>(size).fill('')
    for (let slot = 0; slot < dids.length; slot++) {
      const did = dids[slot] as number
      if (did === 0) continue
      // Slots of live ids never collide: those ids were distinct modulo the smaller size already.
      const to = did & mask
      this.#dids[to] = did
      this.#data[to] = data[slot]
      this.#methods[to] = methods[slot] as string
      this.#addresses[to] = addresses[slot] as string
    }
  }
}
