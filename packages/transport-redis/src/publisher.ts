/**
 * PUBLISH at the end of the turn, in the order the bus published. Events travel one PUBLISH each
 * (plain Redis subscribers see one message per event); consecutive frames for one inbox share one
 * PUBLISH as an envelope (see native/envelope.ts), so a server answering 64 requests of one caller
 * publishes once.
 * @module
 */
import type { Client } from './client.js'
import { type Deferred, deferred } from './deferred.js'
import { mapRejection } from './errors.js'
import { ENVELOPE_LIMIT, packFrames } from './native/envelope.js'
import type { TurnBatcher } from './turn.js'

/** One PUBLISH to come: an event, or one or more frames for an inbox. */
interface Group {
  readonly channel: string
  readonly inbox: boolean
  readonly frames: Buffer[]
  size: number
  readonly done: Deferred<number>
}

/** Collects the PUBLISHes of one turn and writes them in order at its end. */
export class Publisher {
  #groups: Group[] = []

  /**
   * @param cmd - the command connection
   * @param batch - the transport's turn batcher
   */
  constructor(
    private readonly cmd: Client,
    private readonly batch: TurnBatcher,
  ) {}

  /**
   * Publishes `data` on `channel` at the end of the turn.
   * @param inbox - true for an inbox frame (may share an envelope with the frames before it)
   * @returns the number of receivers Redis counted (shared by the frames of one envelope)
   */
  publish(channel: string, data: Buffer, inbox: boolean): Promise<number> {
    const groups = this.#groups
    const last = groups[groups.length - 1]
    if (inbox && last?.inbox && last.channel === channel && last.size + data.length + 4 <= ENVELOPE_LIMIT) {
      last.frames.push(data)
      last.size += data.length + 4
      return last.done.promise
    }
    if (groups.length === 0) this.batch.schedule(this.#flush)
    const done = deferred<number>()
    groups.push({ channel, inbox, frames: [data], size: 1 + data.length + 4, done })
    return done.promise
  }

  readonly #flush = (): void => {
    const groups = this.#groups
    this.#groups = []
    for (const g of groups) {
      try {
        const message = g.frames.length === 1 ? (g.frames[0] as Buffer) : packFrames(g.frames)
        mapRejection(`publishing on ${g.channel}`, this.cmd.publish(g.channel, message)).then(
          g.done.resolve,
          g.done.reject,
        )
      } catch (err) {
        g.done.reject(err)
      }
    }
  }
}
