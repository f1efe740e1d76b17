/**
 * One process's side of a bus: its doorbell and its links. A ring of the doorbell (or a pending
 * write) runs `pump`: retry full writes, drain every link in batches and arm each in the read that
 * finds it empty, then sleep. While data keeps coming nobody arms, so a busy stream costs no
 * system call.
 * @module
 */
import type { Logger } from '@unipc/core/spi'
import type { Frame, ShmLink } from './link.js'
import { addon } from './load-addon.js'
import type { NativeBell } from './native.js'

/** Batches read from one link before yielding to the event loop (timers, sockets) and coming back. */
const BATCHES_BEFORE_YIELD = 32

/** A process's doorbell and the links it drains. */
export class Endpoint {
  readonly links = new Set<ShmLink>()
  readonly #bell: NativeBell
  #scheduled = false
  #closed = false

  /**
   * @param bellPath - where to make this endpoint's doorbell FIFO
   * @param onFrame - called for every message received on a link
   * @param onLinkError - called when a link is unusable (corrupt ring); the endpoint has closed it
   * @param logger - where problems are logged
   */
  constructor(
    readonly bellPath: string,
    private readonly onFrame: (link: ShmLink, frame: Frame) => void,
    private readonly onLinkError: (link: ShmLink, err: Error) => void,
    private readonly logger: Logger,
  ) {
    this.#bell = new addon.Bell(bellPath)
    this.#bell.start(() => this.pump())
  }

  /** Adds a link and drains it once (it may already hold messages). */
  add(link: ShmLink): void {
    this.links.add(link)
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
   * rings the bell, which runs pump again). A link still delivering after
   * {@link BATCHES_BEFORE_YIELD} batches stays unarmed and pump comes back after the event loop
   * had its turn.
   */
  pump(): void {
    let more = false
    for (const link of this.links) {
      if (this.#closed) return
      try {
        link.flush()
        const deliver = (f: Frame): void => this.#deliver(link, f)
        for (let batches = 1; link.readOrArm(deliver); batches++) {
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

  #deliver(link: ShmLink, frame: Frame): void {
    try {
      this.onFrame(link, frame)
    } catch (err) {
      // A malformed message from a peer is its fault, not ours: log it and keep serving.
      this.logger.warn(`unipc shm: dropped a message (op ${frame.op}) from pid ${link.peerPid}`, err)
    }
  }

  /** Closes the bell and every link. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const link of this.links) link.close()
    this.links.clear()
    this.#bell.close()
  }
}
