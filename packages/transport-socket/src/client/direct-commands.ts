/**
 * The sender side of direct commands. The first command for a queue asks the hub for the queue's
 * workers (`Workers`; the hub then pushes `Crew` on every change). When every worker of the queue
 * has a direct listener, commands go straight to the least busy worker over a direct link, at most
 * `credit` unfinished per worker (its concurrency plus a small prefetch); a command no worker has
 * room for waits here, in order, until one has. A queue without workers, or with a worker only the
 * hub reaches, uses the hub as before.
 *
 * One sender's commands never overtake each other across the two paths: once a queue on the hub
 * path has direct workers, the sender holds new commands back (draining) and asks the hub until
 * none of its commands of that queue waits there for a worker, then sends what it held straight to
 * the workers, in order (a hub backlog that does not drain within a while sends the held commands
 * through the hub after all, and the sender tries again later). From the direct path it goes back
 * to the hub only once no direct worker is left.
 *
 * The sender holds every direct command until its worker reports it Done (its handler finished).
 * When the worker stops consuming, closes its link or dies, the commands it did not finish come
 * back here and go to another worker, or through the hub, flagged redelivered when the worker may
 * have started them. Closing waits a moment for direct commands to finish, then hands the rest to
 * the hub.
 * @module
 */
import { ConnectionError, type Logger } from '@unipc/core/spi'
import type { WireValue } from '../wire/msgpack.js'
import type { CommandSink, DirectLink, HeldCommand } from './direct-router.js'

/** The hub's answer to `Workers`. */
export interface WorkerList {
  /** `[address, directUrl|nil, consumerId, concurrency, …]` */
  readonly flat: WireValue[]
  /** Commands of the queue queued or unfinished in the hub. */
  readonly backlog: number
}

/** What the command router needs from its transport. */
export interface CommandHost {
  readonly logger: Logger
  /** Asks the hub for the workers of a queue (the hub then sends `Crew` on changes). */
  workers(queue: string): Promise<WorkerList>
  /**
   * Queues through the hub (`redelivered` flags it for its next worker).
   * @throws ConnectionError when the hub link is down
   */
  hubPush(queue: string, data: Uint8Array, redelivered: boolean): Promise<unknown>
  /** Whether the hub link is up. */
  hubUp(): boolean
  /** The direct link to the bus at `address` listening on `url`; undefined: unreachable. */
  link(address: string, url: string): DirectLink | undefined
  /** Whether `url` could not be reached before (that bus is reached through the hub for good). */
  unreachable(url: string): boolean
  /** Every direct link (their commands are handed over on close). */
  links(): DirectLink[]
}

/** Commands a worker may hold beyond its concurrency (they wait in its gate, ready to run). */
const MAX_PREFETCH = 16
/** How long close() waits for direct commands to finish before handing them to the hub. */
const CLOSE_GRACE_MS = 1000
/** How often a draining queue asks the hub whether its commands there were all delivered. */
const DRAIN_POLL_MS = 20
/** How long a queue drains before it gives up (its held commands go through the hub). */
const DRAIN_MAX_MS = 2000
/** How long after giving up (or a failed ask) a queue on the hub path tries the direct path again. */
const RETRY_MS = 1000

const RESOLVED: Promise<void> = Promise.resolve()

class Worker {
  inflight = 0
  link: DirectLink | undefined
  constructor(
    readonly address: string,
    readonly url: string,
    readonly consumerId: number,
    readonly credit: number,
  ) {}
}

class Command implements HeldCommand {
  worker: Worker | undefined
  constructor(
    readonly queue: string,
    readonly data: Uint8Array,
    public redelivered: boolean,
  ) {}
}

interface Waiter {
  readonly data: Uint8Array
  resolve(): void
  reject(err: unknown): void
}

interface Route {
  readonly queue: string
  /** The queue's workers when every one has a direct listener; else empty. */
  workers: Worker[]
  /** Commands go straight to `workers` (false: through the hub). */
  direct: boolean
  /** Until this time (epoch ms; 0: not draining) new commands wait here for the hub to deliver ours. */
  drainUntil: number
  /** Commands that came back from a worker, served before `pending`. */
  back: Command[]
  /** Commands waiting for credit, in send order. */
  pending: Command[]
  /** Commands sent while the worker list is first looked up. */
  lookup: Waiter[] | undefined
  /** Commands this sender queued through the hub (an answer is trusted if none went meanwhile). */
  hubPushes: number
  asking: boolean
  /** When a queue held on the hub path may ask again (epoch ms). */
  retryAt: number
}

/** Sends commands straight to workers when it can, through the hub otherwise. */
export class CommandRouter implements CommandSink {
  readonly #routes = new Map<string, Route>()
  /** Commands that must go through the hub while it is unreachable. */
  #orphans: Command[] = []
  /** Direct commands not yet Done, over every worker. */
  #held = 0
  #closing = false
  #drained: (() => void) | undefined

  constructor(readonly host: CommandHost) {}

  /** Sends a command to `queue`: resolves once it is in this sender's hands or queued in the hub. */
  push(queue: string, data: Uint8Array): Promise<void> {
    const r = this.#routes.get(queue)
    if (r === undefined) return this.#lookup(queue, data)
    if (r.lookup) {
      const waiting = r.lookup
      return new Promise((resolve, reject) => waiting.push({ data, resolve, reject }))
    }
    if ((r.direct || r.drainUntil !== 0) && !this.#closing) {
      if (r.direct) this.#place(r, new Command(queue, data, false))
      else r.pending.push(new Command(queue, data, false))
      return RESOLVED
    }
    const pushed = this.host.hubPush(queue, data, false) as Promise<void>
    r.hubPushes++
    // Asked after the push is written, so the hub's answer counts it.
    if (r.workers.length > 0 && !r.asking && !this.#closing && Date.now() >= r.retryAt) this.#ask(r)
    return pushed
  }

  /** The hub's new list of workers of `queue`. */
  crew(queue: string, flat: WireValue[]): void {
    const r = this.#routes.get(queue)
    if (!r || r.lookup) return
    this.#apply(r, flat, false)
  }

  /** The hub link is back: ask for every worker list again and queue what waited for the hub. */
  hubBack(): void {
    for (const r of this.#routes.values()) if (!r.lookup && !r.asking) this.#ask(r)
    const orphans = this.#orphans
    this.#orphans = []
    for (const c of orphans) this.#toHub(c)
  }

  acked(held: HeldCommand): void {
    const c = held as Command
    const w = c.worker
    if (w) w.inflight--
    c.worker = undefined
    if (--this.#held === 0) this.#drained?.()
    if (this.#closing) return
    const r = this.#routes.get(c.queue)
    if (r) this.#pump(r)
  }

  returned(held: HeldCommand, ran: boolean): void {
    const c = held as Command
    const w = c.worker
    c.worker = undefined
    if (ran) c.redelivered = true
    const r = this.#routes.get(c.queue)
    if (w) {
      w.inflight--
      if (--this.#held === 0) this.#drained?.()
    }
    if (r && (r.direct || this.#closing)) {
      // close() hands it over; otherwise it goes first to the next worker with room.
      r.back.push(c)
      // A worker that bounced, left or died takes nothing more until the hub lists it again.
      if (w) this.#drop(r, w)
      this.#pump(r)
      return
    }
    this.#toHub(c)
  }

  /**
   * Stops sending direct, waits a moment for what workers hold to finish, then hands every
   * command still in this sender's hands to the hub (flagged redelivered when a worker had it).
   */
  async close(): Promise<void> {
    this.#closing = true
    if (this.#held > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#drained = resolve
        timer = setTimeout(resolve, CLOSE_GRACE_MS)
      })
      clearTimeout(timer)
    }
    const pushes: Promise<unknown>[] = []
    const hand = (c: Command): void => {
      const p = this.#toHub(c)
      if (p) pushes.push(p)
    }
    for (const link of this.host.links()) for (const c of link.takeCommands()) hand(c as Command)
    for (const r of this.#routes.values()) {
      const rest = [...r.back, ...r.pending]
      r.back = []
      r.pending = []
      for (const c of rest) hand(c)
    }
    for (const c of this.#orphans)
      this.host.logger.warn(`unipc: a command for ${c.queue} is lost: the hub is unreachable while closing`)
    this.#orphans = []
    if (pushes.length === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(pushes),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS)
      }),
    ])
    clearTimeout(timer)
  }

  #lookup(queue: string, data: Uint8Array): Promise<void> {
    const waiters: Waiter[] = []
    const r: Route = {
      queue,
      workers: [],
      direct: false,
      drainUntil: 0,
      back: [],
      pending: [],
      lookup: waiters,
      hubPushes: 0,
      asking: false,
      retryAt: 0,
    }
    this.#routes.set(queue, r)
    const first = new Promise<void>((resolve, reject) => waiters.push({ data, resolve, reject }))
    this.host.workers(queue).then(
      (list) => {
        r.lookup = undefined
        this.#apply(r, list.flat, list.backlog === 0)
        for (const w of waiters) this.push(queue, w.data).then(w.resolve, w.reject)
      },
      (err) => {
        if (this.#routes.get(queue) === r) this.#routes.delete(queue)
        for (const w of waiters) w.reject(err)
      },
    )
    return first
  }

  /** Asks the hub for the workers again; the direct path opens if nothing of the queue waits there. */
  #ask(r: Route): void {
    r.asking = true
    const at = r.hubPushes
    this.host.workers(r.queue).then(
      (list) => {
        r.asking = false
        if (!this.#closing) this.#apply(r, list.flat, list.backlog === 0 && r.hubPushes === at)
      },
      (err) => {
        r.asking = false
        this.host.logger.debug(`unipc: could not list the workers of ${r.queue}`, err)
        if (r.drainUntil !== 0) this.#stopDraining(r)
        r.retryAt = Date.now() + RETRY_MS
      },
    )
  }

  /** Draining failed or took too long: what waited goes through the hub; try again later. */
  #stopDraining(r: Route): void {
    r.drainUntil = 0
    r.retryAt = Date.now() + RETRY_MS
    if (!this.#closing) this.#flush(r)
  }

  /**
   * Takes a worker list. A queue on the direct path stays on it while it has direct workers; one on
   * the hub path switches only when `clear` (nothing of it waits in the hub).
   */
  #apply(r: Route, flat: WireValue[], clear: boolean): void {
    const old = r.workers
    const list: Worker[] = []
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const [address, url, consumerId, concurrency] = [flat[i], flat[i + 1], flat[i + 2], flat[i + 3]]
      if (typeof address !== 'string' || typeof consumerId !== 'number') continue
      if (typeof url !== 'string' || typeof concurrency !== 'number' || this.host.unreachable(url)) {
        // A worker only the hub reaches: it keeps its share of the commands through the hub.
        list.length = 0
        break
      }
      const known = old.find((w) => w.address === address && w.consumerId === consumerId && w.url === url)
      list.push(
        known ?? new Worker(address, url, consumerId, concurrency + Math.min(concurrency, MAX_PREFETCH)),
      )
    }
    r.workers = list
    if (list.length === 0) {
      r.direct = false
      r.drainUntil = 0
      this.#flush(r)
      return
    }
    if (r.direct || clear) {
      r.direct = true
      r.drainUntil = 0
      this.#pump(r)
      return
    }
    // Direct workers, but commands of this sender may still wait in the hub: drain first.
    const now = Date.now()
    if (r.drainUntil === 0) {
      if (now < r.retryAt) return
      r.drainUntil = now + DRAIN_MAX_MS
    } else if (now > r.drainUntil) {
      this.#stopDraining(r)
      return
    }
    if (r.asking) return
    setTimeout(() => {
      if (!r.asking && r.drainUntil !== 0 && !this.#closing) this.#ask(r)
    }, DRAIN_POLL_MS).unref?.()
  }

  /** Sends `c` to a worker with room, or lets it wait its turn. */
  #place(r: Route, c: Command): void {
    if (r.back.length === 0 && r.pending.length === 0) {
      const w = this.#pick(r)
      if (w) {
        this.#send(r, w, c)
        return
      }
    }
    r.pending.push(c)
  }

  /**
   * The least busy worker with room (the first of equals). A worker's finished commands arrive
   * together, so the sends they make room for go back to that same worker: one write per read,
   * where round-robin would spread them over every link.
   */
  #pick(r: Route): Worker | undefined {
    let best: Worker | undefined
    for (const w of r.workers)
      if (w.inflight < w.credit && (best === undefined || w.inflight < best.inflight)) best = w
    return best
  }

  #send(r: Route, w: Worker, c: Command): void {
    let link = w.link
    if (link === undefined || link.dead) {
      link = this.host.link(w.address, w.url)
      w.link = link
      if (!link) {
        // Unreachable: `c` goes first again, to another worker or (none left) the hub.
        r.back.unshift(c)
        this.#drop(r, w)
        this.#pump(r)
        return
      }
    }
    w.inflight++
    this.#held++
    c.worker = w
    link.command(w.consumerId, c)
  }

  /** Sends what waits while workers have room (returned commands first). */
  #pump(r: Route): void {
    if (this.#closing || !r.direct) return
    while (r.back.length > 0 || r.pending.length > 0) {
      const w = this.#pick(r)
      if (!w) return
      const c = (r.back.length > 0 ? r.back.shift() : r.pending.shift()) as Command
      this.#send(r, w, c)
      if (!r.direct) return
    }
  }

  /** Hands everything waiting in `r` to the hub, in order. */
  #flush(r: Route): void {
    const all = [...r.back, ...r.pending]
    r.back = []
    r.pending = []
    for (const c of all) this.#toHub(c)
  }

  /** Removes a worker from its queue's list; with none left the queue uses the hub. */
  #drop(r: Route, w: Worker): void {
    const i = r.workers.indexOf(w)
    if (i < 0) return
    r.workers.splice(i, 1)
    if (r.workers.length > 0 || !r.direct) return
    r.direct = false
    if (!this.#closing) this.#flush(r)
  }

  /** Queues `c` through the hub, or keeps it until the hub is back. */
  #toHub(c: Command): Promise<unknown> | undefined {
    const r = this.#routes.get(c.queue)
    if (r) r.hubPushes++
    if (!this.host.hubUp()) {
      this.#orphans.push(c)
      return undefined
    }
    try {
      return this.host.hubPush(c.queue, c.data, c.redelivered).catch((err) => {
        if (!(err instanceof ConnectionError) || this.#closing) {
          this.host.logger.warn(`unipc: the hub refused a command for ${c.queue}`, err)
          return
        }
        // The hub may have queued it before the link dropped: flagged, in case it runs twice.
        c.redelivered = true
        this.#orphans.push(c)
      })
    } catch {
      this.#orphans.push(c)
      return undefined
    }
  }
}
