/**
 * One process's side of a bus: its doorbell and its links. A ring of the doorbell (or a pending
 * write) runs `pump`: retry full writes, drain every link in batches and arm each in the read that
 * finds it empty, then sleep. While data keeps coming nobody arms, so a busy stream costs no
 * system call.
 *
 * With a spin budget (the `spin` option), pump leaves the rings unarmed and the addon polls them
 * for that long after the last activity, right before the event loop would block (NativeBell.spin):
 * a message arriving meanwhile runs pump at once, with no doorbell and no wake-up on either side.
 * Only then are the rings armed and the loop sleeps.
 * @module
 */
import type { Logger } from '@unipc/core/spi'
import type { DirectSink, Frame, ShmLink } from './link.js'
import { addon } from './load-addon.js'
import type { NativeBell } from './native.js'

/** Batches read from one link before yielding to the event loop (timers, sockets) and coming back. */
const BATCHES_BEFORE_YIELD = 32

/**
 * Endpoints of this process that poll (a spin budget). Any of them that finds data drains them
 * all in one callback, so what several buses of one process received is handled before the
 * promise jobs it triggers run: a peer's earlier message to one bus (the broker telling a caller
 * that a server left) is seen before a later one to another bus (the broker confirming to that
 * server that it left), as when their doorbells ring in order.
 */
const polling = new Set<Endpoint>()
function pumpPolling(): void {
  for (const endpoint of polling) endpoint.pump()
}

/** A process's doorbell and the links it drains. */
export class Endpoint {
  readonly links = new Set<ShmLink>()
  readonly #bell: NativeBell
  /** The addon arms the rings before the loop sleeps (spin budget on): pump must not. */
  readonly #spins: boolean
  #scheduled = false
  #closed = false
  /** See {@link Endpoint.#deliverer} (weak: links leave {@link Endpoint.links} in several ways). */
  readonly #deliverers = new WeakMap<ShmLink, (frame: Frame) => void>()

  /**
   * @param bellPath - where to make this endpoint's doorbell FIFO
   * @param onFrame - called for every message received on a link
   * @param onLinkError - called when a link is unusable (corrupt ring); the endpoint has closed it
   * @param logger - where problems are logged
   * @param spinUs - busy-poll budget in µs after activity, 0 for none (see NativeBell.spin)
   * @param direct - where direct links (ShmLink.chunked) hand their common messages, if anywhere
   */
  constructor(
    readonly bellPath: string,
    private readonly onFrame: (link: ShmLink, frame: Frame) => void,
    private readonly onLinkError: (link: ShmLink, err: Error) => void,
    private readonly logger: Logger,
    spinUs = 0,
    private readonly direct?: DirectSink,
  ) {
    this.#bell = new addon.Bell(bellPath)
    this.#spins = spinUs > 0 && addon.spins === true
    if (this.#spins) {
      polling.add(this)
      this.#bell.start(pumpPolling)
      this.#bell.spin?.(spinUs)
    } else this.#bell.start(() => this.pump())
  }

  /** Adds a link and drains it once (it may already hold messages). */
  add(link: ShmLink): void {
    this.links.add(link)
    if (link.chunked && this.direct) link.direct = this.direct
    if (this.#spins) link.pollBy(this.#bell)
    this.schedule()
  }

  /**
   * Takes a link out after delivering what is left in its ring (its peer wrote it before going),
   * then closes it.
   */
  remove(link: ShmLink): void {
    if (!this.links.delete(link)) {
      link.close()
      return
    }
    try {
      while (link.readBatch((f) => this.#deliver(link, f))) {}
    } catch {
      // A corrupt tail from a dying peer: what was intact has been delivered.
    }
    link.close()
  }

  /** Drains soon (after the current job), e.g. after adding a link. */
  schedule(): void {
    if (this.#scheduled || this.#closed) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.pump()
    })
  }

  /**
   * Drains every link, arming each in the read that finds it empty (a peer writing after that
   * rings the bell, which runs pump again); when spinning, the addon arms them later instead. A
   * link still delivering after {@link BATCHES_BEFORE_YIELD} batches stays unarmed and pump comes
   * back after the event loop had its turn.
   */
  pump(): void {
    let more = false
    const arm = !this.#spins
    for (const link of this.links) {
      if (this.#closed) return
      try {
        link.flush()
        const deliver = this.#deliverer(link)
        if (link.chunked && this.#spins) {
          // One chunk, then what it triggered runs and is written (see ShmLink.chunked); the addon
          // calls pump again at once while the ring holds more. (Without polling the peer sleeps
          // between chunks: each would cost it a doorbell, so the ring is drained whole.)
          link.readBatch(deliver, link.readBytes)
          continue
        }
        for (let batches = 1; arm ? link.readOrArm(deliver) : link.readBatch(deliver); batches++) {
          if (batches >= BATCHES_BEFORE_YIELD) {
            more = true
            break
          }
        }
      } catch (err) {
        this.links.delete(link)
        link.close()
        this.onLinkError(link, err as Error)
      }
    }
    if (more) this.schedule()
  }

  /** `link`'s frames to {@link Endpoint.#deliver}: one function per link, made once. */
  #deliverer(link: ShmLink): (frame: Frame) => void {
    let deliver = this.#deliverers.get(link)
    if (!deliver) {
      deliver = (f: Frame): void => this.#deliver(link, f)
      this.#deliverers.set(link, deliver)
    }
    return deliver
  }

  #deliver(link: ShmLink, frame: Frame): void {
    try {
      this.onFrame(link, frame)
    } catch (err) {
      // A malformed message from a peer is its fault, not ours: log it and keep serving.
      this.logger.warn(`unipc shm: dropped a message (op ${frame.op}) from pid ${link.peerPid}`, err)
    }
  }

  /** Busy-poll diagnostics, see NativeBell.spinStats: `[µs polling, deliveries, sleeps]`. */
  spinStats(): number[] {
    return this.#bell.spinStats?.() ?? [0, 0, 0]
  }

  /** Closes the bell and every link. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    polling.delete(this)
    for (const link of this.links) link.close()
    this.links.clear()
    this.#bell.close()
  }
}
