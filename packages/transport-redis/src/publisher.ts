/**
 * PUBLISH at the end of the turn, in the order the bus published. Consecutive frames for one inbox
 * share one PUBLISH as an envelope (see native/envelope.ts), so a server answering 64 requests of
 * one caller publishes once. Events stay one PUBLISH each (plain Redis subscribers see one message
 * per event); a run of events published in one turn is sent as one script call that PUBLISHes each
 * (one command and one reply instead of one per event), except on a Cluster.
 * @module
 */
import type { Client } from './client.js'
import { type Deferred, deferred } from './deferred.js'
import { toUnipcError } from './errors.js'
import { ENVELOPE_LIMIT, packFrames } from './native/envelope.js'
import type { TurnBatcher } from './turn.js'

/** Frames for one inbox: one PUBLISH, resolving with its receiver count. */
interface InboxGroup {
  readonly inbox: true
  readonly channel: string
  readonly frames: Buffer[]
  size: number
  readonly done: Deferred<number>
}

/** Consecutive events: `[channel, data, channel, data, …]`, published in order. */
interface EventRun {
  readonly inbox: false
  readonly args: (string | Buffer)[]
  size: number
  readonly done: Deferred<void>
}

/** Largest run of events (bytes) in one script call. */
const EVENT_RUN_LIMIT = 1024 * 1024

/** PUBLISHes `ARGV[1]` on … in pairs: ARGV = channel, message, channel, message, … */
const PUBLISH_RUN = `
for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return #ARGV / 2`

interface RunClient {
  unipcPublishRun(...args: (string | Buffer)[]): Promise<number>
}

/** Collects the PUBLISHes of one turn and writes them in order at its end. */
export class Publisher {
  #groups: (InboxGroup | EventRun)[] = []
  readonly #runs: boolean

  /**
   * @param cmd - the command connection
   * @param batch - the transport's turn batcher
   * @param cluster - true on a Redis Cluster (events are published one by one there)
   */
  constructor(
    private readonly cmd: Client,
    private readonly batch: TurnBatcher,
    cluster: boolean,
  ) {
    this.#runs = !cluster
    if (this.#runs) cmd.defineCommand('unipcPublishRun', { lua: PUBLISH_RUN, numberOfKeys: 0 })
  }

  /**
   * Publishes an inbox frame at the end of the turn.
   * @returns the number of receivers Redis counted (shared by the frames of one envelope)
   */
  send(channel: string, data: Buffer): Promise<number> {
    const last = this.#groups[this.#groups.length - 1]
    if (last?.inbox && last.channel === channel && last.size + data.length + 4 <= ENVELOPE_LIMIT) {
      last.frames.push(data)
      last.size += data.length + 4
      return last.done.promise
    }
    const done = deferred<number>()
    this.#push({ inbox: true, channel, frames: [data], size: 1 + data.length + 4, done })
    return done.promise
  }

  /** Publishes an event at the end of the turn (one PUBLISH, possibly inside a run's script call). */
  event(channel: string, data: Buffer): Promise<void> {
    const last = this.#groups[this.#groups.length - 1]
    if (this.#runs && last !== undefined && !last.inbox && last.size + data.length <= EVENT_RUN_LIMIT) {
      last.args.push(channel, data)
      last.size += data.length
      return last.done.promise
    }
    const done = deferred<void>()
    this.#push({ inbox: false, args: [channel, data], size: data.length, done })
    return done.promise
  }

  #push(group: InboxGroup | EventRun): void {
    if (this.#groups.length === 0) this.batch.schedule(this.#flush)
    this.#groups.push(group)
  }

  readonly #flush = (): void => {
    const groups = this.#groups
    this.#groups = []
    for (const g of groups) {
      try {
        if (g.inbox) {
          const message = g.frames.length === 1 ? (g.frames[0] as Buffer) : packFrames(g.frames)
          // One reaction settles the group (no mapRejection promise in between: this is per reply).
          this.cmd
            .publish(g.channel, message)
            .then(g.done.resolve, (err: unknown) =>
              g.done.reject(toUnipcError(err, `publishing on ${g.channel}`)),
            )
        } else {
          const sent =
            g.args.length === 2
              ? this.cmd.publish(g.args[0] as string, g.args[1] as Buffer)
              : (this.cmd as unknown as RunClient).unipcPublishRun(...g.args)
          sent.then(
            () => g.done.resolve(),
            (err: unknown) => g.done.reject(toUnipcError(err, `publishing on ${g.args[0]}`)),
          )
        }
      } catch (err) {
        g.done.reject(err)
      }
    }
  }
}
