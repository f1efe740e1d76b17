/**
 * The measuring loops that run inside the driver process of a run: a warm-up phase that is not
 * counted, then a measured window. They only use the adapter's roles, so every system is driven by
 * the same code.
 * @module
 */
import type { Caller, Closable, OnEvent, Publisher } from '../types.js'
import type { DriverResult, RunParams, SubscriberReport } from './messages.js'
import { readSeq, replyLength, stampEvent } from './payload.js'

const MAX_SAMPLES = 20_000

/** Monotonic time in ns (comparable across processes on Linux). */
export const nowNs = (): bigint => process.hrtime.bigint()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Length of one slice when a layer and its base alternate in the same processes. */
export const ALTERNATE_SLICE_MS = 100

/** Completed calls and sampled latencies of one caller in the measured window. */
class Tally {
  ops = 0
  seen = 0
  readonly latencies: number[] = []

  /** Counts one measured call that took `us` microseconds. */
  add(us: number, withLatency: boolean): void {
    this.ops++
    if (!withLatency) return
    // Reservoir sampling keeps memory bounded and the percentiles unbiased.
    this.seen++
    if (this.latencies.length < MAX_SAMPLES) this.latencies.push(us)
    else {
      const j = Math.floor(Math.random() * this.seen)
      if (j < MAX_SAMPLES) this.latencies[j] = us
    }
  }

  result(seconds: number, withLatency: boolean): DriverResult {
    this.latencies.sort((a, b) => a - b)
    return { ops: this.ops, seconds, ...(withLatency ? { latencies: this.latencies } : {}) }
  }
}

/**
 * Calls `caller` with `inFlight` concurrent loops: warm-up, then the measured window.
 *
 * When the caller has a `baseline` (the same transport without the layer under test, in the same
 * processes), the loops alternate between the two in {@link ALTERNATE_SLICE_MS} slices, warm-up
 * included, and the result carries the baseline's figures too: both see the same processes, the
 * same connections and the same load, which is the fair measure of what a layer adds.
 * @param withLatency - record each measured call's round trip (rtt, large)
 */
export async function driveCalls(
  caller: Caller,
  payload: Uint8Array,
  inFlight: number,
  params: RunParams,
  options: { withLatency: boolean; expectEcho: boolean },
): Promise<DriverResult> {
  const base = caller.baseline
  // One checked call first (each side): an adapter that does not echo the payload must fail loudly, not measure.
  for (const c of base ? [caller, base] : [caller]) {
    const first = await c.call(payload)
    if (options.expectEcho && replyLength(first) !== payload.byteLength) {
      throw new Error(`echo reply has ${replyLength(first)} bytes, expected ${payload.byteLength}`)
    }
  }
  // Phases are checked against the clock inside the loops, not with timers: an in-process system
  // (memory:) may complete calls in microtasks only, and a timer would never get to run.
  // The loop reads the clock once per call (a call's end is the next one's start) and in
  // milliseconds as a double (no BigInt allocated per call): at 500k calls/s the harness's own
  // cost would otherwise be a visible share of what it measures.
  const start = performance.now()
  const warmEnd = start + params.warmupMs
  const measureEnd = warmEnd + params.measureMs
  const mine = new Tally()
  const theirs = new Tally()
  const loop = async (): Promise<void> => {
    let t0 = performance.now()
    while (t0 < measureEnd) {
      // Odd slices go to the baseline; a call counts for the side it started on.
      const onBase = base !== undefined && Math.floor((t0 - start) / ALTERNATE_SLICE_MS) % 2 === 1
      await (onBase ? base : caller).call(payload)
      const t1 = performance.now()
      if (t0 >= warmEnd && t1 <= measureEnd) {
        ;(onBase ? theirs : mine).add((t1 - t0) * 1000, options.withLatency)
      }
      t0 = t1
    }
  }
  await Promise.all(Array.from({ length: inFlight }, loop))
  const seconds = params.measureMs / 1000
  if (!base) return mine.result(seconds, options.withLatency)
  const baseSeconds = oddSliceSeconds(start, warmEnd, measureEnd, ALTERNATE_SLICE_MS)
  return {
    ...mine.result(seconds - baseSeconds, options.withLatency),
    baseline: theirs.result(baseSeconds, options.withLatency),
  }
}

/** How much of [from, to) falls in the odd slices counted from `start` (the baseline's share), in s; times in ms. */
export function oddSliceSeconds(start: number, from: number, to: number, slice: number): number {
  let ms = 0
  for (let k = Math.floor((from - start) / slice); start + k * slice < to; k++) {
    if (k % 2 === 0) continue
    const s = start + k * slice
    const a = s > from ? s : from
    const b = s + slice < to ? s + slice : to
    if (b > a) ms += b - a
  }
  return ms / 1000
}

/** How the fan-out publisher hears from the harness: all subscribers joined, credit from the slowest. */
export interface FanoutLink {
  /** Resolves when every subscriber has received a probe event. */
  joined: Promise<void>
  /** The highest sequence number every subscriber has reached. */
  credit(): number
  /** Resolves when the credit changes (or after `ms`). */
  waitCredit(ms: number): Promise<void>
}

/**
 * Publishes 1 KiB events: probes until every subscriber got one, then warm-up and the measured
 * window, never more than `params.window` events ahead of the slowest subscriber.
 */
export async function driveFanout(
  publisher: Publisher,
  template: Buffer,
  params: RunParams,
  link: FanoutLink,
): Promise<DriverResult> {
  let joined = false
  void link.joined.then(() => {
    joined = true
  })
  const joinDeadline = Date.now() + 10_000
  while (!joined) {
    if (Date.now() > joinDeadline) throw new Error('subscribers received no event within 10 s')
    await publisher.publish(stampEvent(template, 0))
    await sleep(20)
  }
  let seq = 0
  let pending = 0
  let failure: unknown
  const publishOne = (): void => {
    seq++
    const r = publisher.publish(stampEvent(template, seq))
    if (r && typeof (r as Promise<void>).then === 'function') {
      pending++
      ;(r as Promise<void>).then(
        () => pending--,
        (err) => {
          pending--
          failure ??= err
        },
      )
    }
  }
  const phase = async (ms: number): Promise<void> => {
    const end = Date.now() + ms
    let lastProgress = Date.now()
    let lastCredit = link.credit()
    while (Date.now() < end) {
      if (failure) throw failure
      let burst = 0
      while (seq - link.credit() < params.window && pending < 256 && burst < 256) {
        publishOne()
        burst++
      }
      const c = link.credit()
      if (c !== lastCredit) {
        lastCredit = c
        lastProgress = Date.now()
      } else if (Date.now() - lastProgress > 5_000) {
        throw new Error(`subscribers stalled at event ${c} of ${seq} for 5 s`)
      }
      // Yield so writes flush and credit arrives; wait for credit when the window is full.
      if (seq - c >= params.window) await link.waitCredit(50)
      else await new Promise((r) => setImmediate(r))
    }
  }
  await phase(params.warmupMs)
  const firstSeq = seq + 1
  const start = nowNs()
  await phase(params.measureMs)
  const seconds = Number(nowNs() - start) / 1e9
  const lastSeq = seq
  const drainEnd = Date.now() + 5_000
  while (pending > 0 && Date.now() < drainEnd) await sleep(5)
  return {
    ops: lastSeq - firstSeq + 1,
    seconds,
    fanout: { firstSeq, lastSeq, startNs: start.toString() },
  }
}

/** Counts fan-out events in a subscriber and reports progress for the publisher's credit window. */
export class SubscriberCounter {
  /** Highest sequence number seen (-1 before the first probe). */
  highest = -1
  // One bit per sequence number: which events arrived (the measured window is known only at the end).
  #seen = new Uint8Array(1 << 16)
  #lastNs = 0n
  #lastEventAt = Date.now()
  #sinceReport = 0

  /** @param report - sends the highest sequence seen to the harness */
  constructor(private readonly report: (seq: number) => void) {}

  /** The adapter's `onEvent`. */
  readonly onEvent: OnEvent = (payload) => {
    const seq = readSeq(payload)
    if (seq < 0) return
    this.#lastEventAt = Date.now()
    if (seq === 0) {
      if (this.highest < 0) {
        this.highest = 0
        this.report(0)
      }
      return
    }
    if (seq > this.highest) this.highest = seq
    const byte = seq >> 3
    if (byte >= this.#seen.length) {
      const grown = new Uint8Array(Math.max(this.#seen.length * 2, byte + 1))
      grown.set(this.#seen)
      this.#seen = grown
    }
    this.#seen[byte]! |= 1 << (seq & 7)
    // The publisher sends nothing after its measured window, and events of one publisher arrive
    // in order, so the last event's time is the end of this subscriber's measured window.
    this.#lastNs = nowNs()
    if (++this.#sinceReport >= 128) {
      this.#sinceReport = 0
      this.report(this.highest)
    }
  }

  /** Waits until `lastSeq` arrived or nothing came for 2 s, then counts what arrived in [first, last]. */
  async finish(firstSeq: number, lastSeq: number): Promise<SubscriberReport> {
    const deadline = Date.now() + 10_000
    while (this.highest < lastSeq && Date.now() - this.#lastEventAt < 2_000 && Date.now() < deadline) {
      await sleep(5)
    }
    let received = 0
    for (let seq = firstSeq; seq <= lastSeq; seq++) {
      if ((this.#seen[seq >> 3] ?? 0) & (1 << (seq & 7))) received++
    }
    return { received, lastNs: this.#lastNs.toString() }
  }
}

/** Stream events between two readings of the clock. */
const CLOCK_EVERY = 32

/** Opens a stream client and counts the events delivered in the measured window. */
export async function driveStream(
  open: (onEvent: OnEvent) => Promise<Closable>,
  payloadSize: number,
  params: RunParams,
): Promise<DriverResult> {
  let count = 0
  let ops = 0
  /** 0 warm-up, 1 measuring, 2 done. */
  let phase = 0
  let warmEnd = 0n
  let measureEnd = 0n
  let badLength = -1
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => {
    done = r
  })
  // Phases are checked against the clock in the handler (an in-process stream may never yield to
  // timers), every CLOCK_EVERY events: reading the clock costs about 50 ns, a tenth of an event's
  // budget at 2M events/s, and a phase edge off by < CLOCK_EVERY events is nothing in a million.
  const client = await open((payload) => {
    if (count++ === 0) {
      if (payload.byteLength !== payloadSize) badLength = payload.byteLength
      warmEnd = nowNs() + BigInt(params.warmupMs) * 1_000_000n
      measureEnd = warmEnd + BigInt(params.measureMs) * 1_000_000n
      return
    }
    if (phase === 1) ops++
    if (count % CLOCK_EVERY !== 0 || phase === 2) return
    const t = nowNs()
    if (phase === 0) {
      if (t >= warmEnd) phase = 1
    } else if (t >= measureEnd) {
      phase = 2
      done()
    }
  })
  try {
    let timer: NodeJS.Timeout | undefined
    const idle = new Promise<void>((resolve) => {
      // Also ends when the stream stalls: no first event in 10 s, or events stop coming.
      let last = -1
      const check = (): void => {
        if (count === last || count === 0) {
          resolve()
          return
        }
        last = count
        timer = setTimeout(check, 10_000)
      }
      timer = setTimeout(check, 10_000)
    })
    await Promise.race([finished, idle])
    clearTimeout(timer)
    if (count === 0) throw new Error('the stream delivered no event within 10 s')
    if (badLength >= 0) throw new Error(`stream event has ${badLength} bytes, expected ${payloadSize}`)
    if (nowNs() < measureEnd) throw new Error(`the stream stalled after ${count} events`)
    return { ops, seconds: params.measureMs / 1000 }
  } finally {
    await client.close()
  }
}
