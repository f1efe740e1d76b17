/**
 * Timeouts of waiting calls without a Node timer per call. Calls that share a timeout value expire
 * in the order they started, so each value keeps its calls in an intrusive list (oldest first) under
 * one timer armed for the oldest. Adding and removing a call is a few pointer writes: no Timeout
 * object, no timer-list insertion, no clearTimeout. On a busy bus that is a measurable share of
 * every call (the timer was about a tenth of the core's own allocation per call).
 *
 * The timer is unref'd while its list is empty, so a bus with no call waiting does not keep the
 * process alive, just as a cleared setTimeout would not.
 * @module
 */
import { performance } from 'node:perf_hooks'

/** A waiting call as the timer list sees it; the list links it in place. */
export interface Expiring {
  /** Monotonic ms ({@link now}) at which the call times out; set by the list. */
  expireAt: number
  /** Links of the list the call is in (undefined when not in one). */
  prevExpiring: Expiring | undefined
  nextExpiring: Expiring | undefined
  /** The call's time is up: it fails itself. It is already unlinked. */
  expire(): void
}

/** Monotonic milliseconds (not the wall clock, which may jump). */
export const now = (): number => performance.now()

/** How often {@link wallAt} re-reads the wall clock (ms of the monotonic clock). */
const CALIBRATE_EVERY = 100
let calibratedAt = 0
let wallOffset = 0
calibrate()

/**
 * The wall-clock ms (as `Date.now()` would say) at monotonic time `t` (a {@link now} reading just
 * taken): a call needs both, for its timeout and for the deadline its frame carries, and one clock
 * read costs as much as the rest of the deadline work (~50 ns here). The offset between the clocks
 * is re-read every 100 ms, so a wall-clock step shows within that and slewing (at most 0.5 ms per
 * second) stays far below the wire's millisecond resolution. Rounded up: never earlier than what
 * `Date.now()` says at `t` (a deadline a server sees is never short of the caller's timeout).
 */
export function wallAt(t: number): number {
  if (t - calibratedAt >= CALIBRATE_EVERY || t < calibratedAt) calibrate()
  return Math.ceil(t + wallOffset)
}

/**
 * Re-reads the offset between the clocks from a wall reading bracketed by two monotonic ones, so
 * that a thread preempted between the reads (a loaded machine) cannot skew every deadline of the
 * next 100 ms by the time it lost: a wide bracket is read again (a few times at most).
 */
function calibrate(): void {
  for (let attempt = 0; ; attempt++) {
    const before = now()
    const wall = Date.now()
    const after = now()
    if (after - before <= 0.05 || attempt === 4) {
      calibratedAt = before
      wallOffset = wall - before
      return
    }
  }
}

/** The calls of one timeout value, oldest first, under one timer. */
export class ExpiryList {
  #head: Expiring | undefined
  #tail: Expiring | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #fire = (): void => this.#onTimer()

  constructor(private readonly ms: number) {}

  /** Links `e` in; `t`: a {@link now} reading just taken (read here when not given). */
  add(e: Expiring, t = now()): void {
    e.expireAt = t + this.ms
    e.nextExpiring = undefined
    e.prevExpiring = this.#tail
    if (this.#tail) this.#tail.nextExpiring = e
    else this.#head = e
    this.#tail = e
    const timer = this.#timer
    // An armed timer fires no later than this call's time (it was armed for an older call); it
    // re-arms for whatever is oldest then. Only a list that was empty needs its timer held again.
    if (!timer) this.#arm(this.ms)
    else if (this.#head === e) timer.ref()
  }

  remove(e: Expiring): void {
    const { prevExpiring: prev, nextExpiring: next } = e
    if (prev) prev.nextExpiring = next
    else if (this.#head === e) this.#head = next
    else return // not in this list
    if (next) next.prevExpiring = prev
    else this.#tail = prev
    e.prevExpiring = e.nextExpiring = undefined
    if (!this.#head) this.#timer?.unref()
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delay)))
  }

  #onTimer(): void {
    this.#timer = undefined
    const t = now()
    // Timers may fire a little before their time by the clock read here; allow for a millisecond.
    while (this.#head && this.#head.expireAt <= t + 1) {
      const e = this.#head
      this.remove(e)
      e.expire()
    }
    if (this.#head && !this.#timer) this.#arm(this.#head.expireAt - t)
  }
}

/** Lists kept per bus; timeouts beyond these many distinct values get their own Node timer. */
const MAX_LISTS = 8

/** The timeout lists of one bus, one per timeout value in use (the bus default, mostly). */
export class DeadlineTimers {
  readonly #lists = new Map<number, ExpiryList>()
  /** The list used last (most calls use the bus default): no map lookup for it. */
  #last: ExpiryList | undefined
  #lastMs = 0

  /**
   * Starts `e`'s clock: it expires after `ms` unless {@link cancel}led first.
   * @returns false when this bus already tracks many distinct timeouts: use a timer of your own
   */
  start(e: Expiring, ms: number): boolean {
    const list = this.list(ms)
    list?.add(e)
    return list !== undefined
  }

  /**
   * The list of timeout `ms`, to {@link ExpiryList.add} a call to and remove it from directly (no
   * lookup per call); undefined when this bus already tracks many distinct timeouts.
   */
  list(ms: number): ExpiryList | undefined {
    const last = this.#last
    if (last !== undefined && this.#lastMs === ms) return last
    let list = this.#lists.get(ms)
    if (!list) {
      if (this.#lists.size >= MAX_LISTS) return undefined
      list = new ExpiryList(ms)
      this.#lists.set(ms, list)
    }
    this.#last = list
    this.#lastMs = ms
    return list
  }

  /** Stops `e`'s clock (a no-op when it is not running). */
  cancel(e: Expiring, ms: number): void {
    this.#lists.get(ms)?.remove(e)
  }
}
