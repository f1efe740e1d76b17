/**
 * PUBLISH at the end of the turn, in the order the bus published. Consecutive frames for one inbox
 * share one PUBLISH as an envelope (see native/envelope.ts), so a server answering 64 requests of
 * one caller publishes once. Events stay one PUBLISH each (plain Redis subscribers see one message
 * per event). Every PUBLISH is a hand-encoded command (see raw.ts) written with the rest of the
 * turn, and each event's promise settles with its own reply: Redis reads a burst of pipelined
 * PUBLISHes a few at a time and answers as it goes, so a publisher that bounds the events it has
 * in flight keeps publishing while Redis works through the burst (a promise per burst held it
 * until the whole burst was through). (A script PUBLISHing a whole run cost Redis about 3 µs more
 * per event than plain pipelined PUBLISHes, and Redis is what fan-out waits on.)
 * @module
 */
import { ConnectionError } from '@unipc/core/spi'
import type { Client } from './client.js'
import { type Deferred, deferred } from './deferred.js'
import { toUnipcError } from './errors.js'
import { ENVELOPE_LIMIT, packFrames } from './native/envelope.js'
import { encode1, type RawCallback, RespHead, sendRaw } from './raw.js'
import type { TurnBatcher } from './turn.js'

/** Frames for one inbox: one PUBLISH, failing when nobody received it. */
interface InboxGroup {
  readonly inbox: true
  readonly channel: string
  /** The inbox's address, for the error when it has closed. */
  readonly address: string
  readonly frames: Buffer[]
  size: number
  readonly done: Deferred<void>
}

/** One event: one PUBLISH. */
interface EventGroup {
  readonly inbox: false
  readonly channel: string
  readonly data: Buffer
  readonly done: Deferred<void>
}

/** The encoded `PUBLISH <channel>` head of each channel published on lately. */
const HEADS_LIMIT = 4096

/** Collects the PUBLISHes of one turn and writes them in order at its end. */
export class Publisher {
  #groups: (InboxGroup | EventGroup)[] = []
  #heads = new Map<string, RespHead>()

  /**
   * @param cmd - the command connection
   * @param batch - the transport's turn batcher
   * @param cluster - on a Redis Cluster PUBLISH counts only the receivers on the node it ran on, so
   *   0 receivers proves nothing there
   */
  constructor(
    private readonly cmd: Client,
    private readonly batch: TurnBatcher,
    private readonly cluster: boolean,
  ) {}

  /**
   * Publishes an inbox frame at the end of the turn (frames for one inbox share a PUBLISH).
   * Fails with ConnectionError when no bus listens on the inbox (it has closed), except on a Cluster.
   */
  send(channel: string, address: string, data: Buffer): Promise<void> {
    const last = this.#groups[this.#groups.length - 1]
    if (last?.inbox && last.channel === channel && last.size + data.length + 4 <= ENVELOPE_LIMIT) {
      last.frames.push(data)
      last.size += data.length + 4
      return last.done.promise
    }
    const done = deferred<void>()
    this.#push({ inbox: true, channel, address, frames: [data], size: 1 + data.length + 4, done })
    return done.promise
  }

  /** Publishes an event at the end of the turn (one PUBLISH; settles with its reply). */
  event(channel: string, data: Buffer): Promise<void> {
    const done = deferred<void>()
    this.#push({ inbox: false, channel, data, done })
    return done.promise
  }

  #push(group: InboxGroup | EventGroup): void {
    if (this.#groups.length === 0) this.batch.schedule(this.#flush)
    this.#groups.push(group)
  }

  #head(channel: string): RespHead {
    let head = this.#heads.get(channel)
    if (head === undefined) {
      if (this.#heads.size >= HEADS_LIMIT) this.#heads = new Map()
      head = new RespHead(['PUBLISH', channel])
      this.#heads.set(channel, head)
    }
    return head
  }

  #publish(channel: string, message: Buffer, done: RawCallback): void {
    const head = this.#head(channel)
    sendRaw(this.cmd, head, encode1(head, message), done, [message])
  }

  readonly #flush = (): void => {
    const groups = this.#groups
    this.#groups = []
    for (const g of groups) {
      try {
        if (g.inbox) this.#flushInbox(g)
        else this.#flushEvent(g)
      } catch (err) {
        g.done.reject(err)
      }
    }
  }

  #flushInbox(g: InboxGroup): void {
    const message = g.frames.length === 1 ? (g.frames[0] as Buffer) : packFrames(g.frames)
    this.#publish(g.channel, message, (err, receivers) => {
      if (err) g.done.reject(toUnipcError(err, `publishing on ${g.channel}`))
      else if (receivers === 0 && !this.cluster)
        g.done.reject(new ConnectionError(`no bus at address ${g.address}: it has closed`))
      else g.done.resolve()
    })
  }

  #flushEvent(g: EventGroup): void {
    this.#publish(g.channel, g.data, (err) => {
      if (err) g.done.reject(toUnipcError(err, `publishing on ${g.channel}`))
      else g.done.resolve()
    })
  }
}
