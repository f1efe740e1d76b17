/**
 * The worker side of one consumer: commands come from the hub (`Deliver` on the hub link) and
 * straight from senders (`Deliver` on direct links), and each side only knows its own share, so
 * the gate is what keeps `concurrency`: at most that many unacknowledged at once, the rest wait
 * here in arrival order. A waiting command whose link is gone is skipped (the hub, or its sender,
 * hands it to another worker); when the consumer stops, waiting commands are given back untouched.
 * @module
 */
import type { Delivery } from '@unipc/core/spi'

/** A delivery the gate can hold back. */
export interface GatedDelivery extends Delivery {
  /** True when the link it came on is gone (its owner already took it back). */
  readonly void: boolean
  /** Gives it back untouched (the consumer stopped before it ran). */
  giveBack(): void
}

/** The deliveries of one consumer, at most `concurrency` running. */
export class ConsumerGate {
  #active = 0
  #waiting: GatedDelivery[] = []
  #head = 0
  #stopped = false

  constructor(
    readonly concurrency: number,
    readonly onDelivery: (d: Delivery) => void,
  ) {}

  /** A delivery arrived: run it now or let it wait its turn. */
  offer(d: GatedDelivery): void {
    if (this.#stopped) {
      d.giveBack()
      return
    }
    if (this.#active < this.concurrency && this.#head === this.#waiting.length) {
      this.#active++
      this.onDelivery(d)
    } else this.#waiting.push(d)
  }

  /** A delivery was acknowledged (call once per delivery that ran): the next one may run. */
  done(): void {
    this.#active--
    const waiting = this.#waiting
    while (this.#active < this.concurrency && this.#head < waiting.length && !this.#stopped) {
      const d = waiting[this.#head] as GatedDelivery
      waiting[this.#head++] = undefined as unknown as GatedDelivery
      if (d.void) continue
      this.#active++
      this.onDelivery(d)
    }
    if (this.#head === waiting.length) {
      this.#waiting = []
      this.#head = 0
    }
  }

  /** The consumer stopped: what waits goes back to where it came from. */
  stop(): void {
    this.#stopped = true
    const rest = this.#waiting.slice(this.#head)
    this.#waiting = []
    this.#head = 0
    for (const d of rest) if (!d.void) d.giveBack()
  }
}
