/**
 * redis-ipc commands and results. Sending: the core's command frame becomes redis-ipc JSON (the
 * command object plus `results_queue`, `command_id` and the standard fields), RPUSHed on
 * `queues.commands.<dest>`; results are BLPOPed from this bus's `queues.results.<component>.<thread>`
 * and turned back into reply frames. Working: commands are BLPOPed from the queue, handed to the
 * core as command frames whose reply address names the sender's results queue, and the reply is
 * RPUSHed there as a JSON result carrying the same `command_id`. BLPOP takes a command for good,
 * so this mode has no redelivery (exactly like redis-ipc).
 * @module
 */
import {
  type Closable,
  type ConsumeOptions,
  type Delivery,
  decodeCommand,
  decodeInbox,
  encodeCommand,
  encodeInbox,
  FrameKind,
  type InboxFrame,
  type QueueTransport,
} from '@unipc/core/spi'
import { type Client, endClient, readyToResume, untilClosed } from '../../client.js'
import type { RedisContext } from '../../context.js'
import { redisCall } from '../../errors.js'
import {
  commandQueue,
  isObject,
  jsonBytes,
  parseMessage,
  parseObject,
  parsePayload,
  resultsQueue,
  STANDARD_FIELDS,
  standardFields,
  without,
} from './wire.js'

/** Reply addresses of redis-ipc senders start with this; the rest is `<results_queue>\n<command_id>`. */
const RESULT_ADDRESS = 'redis-ipc-result:'
/** Fields of a command message that are routing, not the command itself. */
const COMMAND_ROUTING = [...STANDARD_FIELDS, 'results_queue', 'command_id']

/** The redis-ipc command facility of one bus. */
export class RedisIpcCommands implements QueueTransport {
  readonly component: string
  readonly thread: string
  #results: Promise<void> | undefined
  #resultsClient: Client | undefined
  #stopped = false
  #nextLocalId = 0
  readonly #consumers = new Set<() => void>()

  constructor(
    private readonly ctx: RedisContext,
    private readonly deliverReply: (frame: Uint8Array) => void,
  ) {
    this.component = ctx.component ?? 'unipc'
    this.thread = ctx.id
  }

  /** This bus's results list. */
  get resultsKey(): string {
    return resultsQueue(this.component, this.thread)
  }

  async push(queue: string, data: Uint8Array): Promise<void> {
    const frame = decodeCommand(data)
    const command = parseObject(frame.body, `command to '${queue}'`)
    const message: Record<string, unknown> = { ...command, ...standardFields(this.component, this.thread) }
    if (frame.replyTo) {
      await this.#listenForResults()
      message.results_queue = this.resultsKey
      message.command_id = `${this.component}-${this.thread}-${process.pid}-${frame.id}`
    }
    await redisCall(`push to ${commandQueue(queue)}`, () =>
      this.ctx.cmd.rpush(commandQueue(queue), JSON.stringify(message)),
    )
  }

  /** How many commands wait in `queues.commands.<queue>`. */
  async depth(queue: string): Promise<number> {
    return redisCall(`reading the depth of ${commandQueue(queue)}`, () =>
      this.ctx.cmd.llen(commandQueue(queue)),
    )
  }

  async consume(
    queue: string,
    onDelivery: (d: Delivery) => void,
    options: ConsumeOptions,
  ): Promise<Closable> {
    const blocker = await this.ctx.blocking(`redis-ipc:worker:${queue}`)
    let stopped = false
    let held = 0
    let wake: (() => void) | undefined
    const stop = (): void => {
      stopped = true
      wake?.()
      endClient(blocker)
    }
    this.#consumers.add(stop)
    const loop = (async () => {
      while (!stopped) {
        if (held >= options.concurrency) {
          await new Promise<void>((r) => {
            wake = r
          })
          continue
        }
        let raw: [string, string] | null
        try {
          raw = await untilClosed(blocker, blocker.blpop(commandQueue(queue), 0))
        } catch (err) {
          if (stopped) return
          this.ctx.logger.debug(`unipc: redis-ipc worker on '${queue}' lost its connection`, err)
          if (!(await readyToResume(blocker))) return
          continue
        }
        if (!raw) continue
        const delivery = this.#toDelivery(queue, raw[1], () => {
          held--
          wake?.()
        })
        if (!delivery) continue
        held++
        try {
          onDelivery(delivery)
        } catch (err) {
          this.ctx.logger.error(`unipc: command delivery on '${queue}' threw`, err)
        }
      }
    })()
    return {
      close: async () => {
        this.#consumers.delete(stop)
        stop()
        await loop
      },
    }
  }

  #toDelivery(queue: string, raw: string, release: () => void): Delivery | undefined {
    const message = parseMessage(raw)
    if (!message) {
      this.ctx.logger.warn(`unipc: dropped a command on ${commandQueue(queue)} that is not a JSON object`)
      return undefined
    }
    const resultsQ = typeof message.results_queue === 'string' ? message.results_queue : ''
    const commandId = message.command_id === undefined ? '' : String(message.command_id)
    const data = encodeCommand({
      id: ++this.#nextLocalId,
      body: jsonBytes(without(message, COMMAND_ROUTING)),
      replyTo: resultsQ ? `${RESULT_ADDRESS}${resultsQ}\n${commandId}` : '',
      deadline: 0,
      sender: typeof message.component === 'string' ? message.component : '',
    })
    let acked = false
    return {
      data,
      redelivered: false,
      ack: () => {
        if (acked) return
        acked = true
        release()
      },
    }
  }

  /** True when `to` is the reply address of a redis-ipc sender. */
  static isResultAddress(to: string): boolean {
    return to.startsWith(RESULT_ADDRESS)
  }

  /** Sends the core's reply frame to a redis-ipc sender as a JSON result on its results queue. */
  async sendResult(to: string, data: Uint8Array): Promise<void> {
    const [queue, commandId] = to.slice(RESULT_ADDRESS.length).split('\n') as [string, string]
    const frame = decodeInbox(data)
    let body: Record<string, unknown>
    if (frame.kind === FrameKind.Result) {
      const value = parsePayload(frame.body, `result of command ${commandId}`)
      // redis-ipc results are objects; other values travel under `result`.
      body = isObject(value) ? value : value === null ? {} : { result: value }
    } else if (frame.kind === FrameKind.Error) {
      body = { error: frame.error }
    } else return // Accepted, stream items and control frames have no redis-ipc form.
    const message = { ...body, command_id: commandId, ...standardFields(this.component, this.thread) }
    await redisCall(`push a result to ${queue}`, () => this.ctx.cmd.rpush(queue, JSON.stringify(message)))
  }

  /** Starts the BLPOP loop on this bus's results list (once, on the first command expecting a reply). */
  #listenForResults(): Promise<void> {
    this.#results ??= (async () => {
      const client = await this.ctx.blocking(`redis-ipc:results:${this.thread}`)
      this.#resultsClient = client
      void this.#resultsLoop(client)
    })()
    return this.#results
  }

  async #resultsLoop(client: Client): Promise<void> {
    const prefix = `${this.component}-${this.thread}-${process.pid}-`
    while (!this.#stopped) {
      let raw: [string, string] | null
      try {
        raw = await untilClosed(client, client.blpop(this.resultsKey, 0))
      } catch {
        if (this.#stopped) return
        if (!(await readyToResume(client))) return
        continue
      }
      if (!raw) continue
      const message = parseMessage(raw[1])
      const commandId = message ? String(message.command_id ?? '') : ''
      // Like redis-ipc, results for other command ids are ignored.
      if (!message || !commandId.startsWith(prefix)) continue
      const id = Number(commandId.slice(prefix.length))
      if (!Number.isSafeInteger(id)) continue
      const error = message.error
      const frame: InboxFrame =
        isObject(error) && typeof error.message === 'string' && typeof error.name === 'string'
          ? { kind: FrameKind.Error, id, error: error as { name: string; message: string } }
          : {
              kind: FrameKind.Result,
              id,
              body: jsonBytes(without(message, [...STANDARD_FIELDS, 'command_id'])),
            }
      this.deliverReply(encodeInbox(frame))
    }
  }

  /** Stops the results loop and every worker. */
  close(): void {
    this.#stopped = true
    if (this.#resultsClient) endClient(this.#resultsClient)
    for (const stop of this.#consumers) stop()
    this.#consumers.clear()
  }
}
