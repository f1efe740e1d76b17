/**
 * Commands: send a command to a component's queue; one worker of that component takes it; the
 * reply goes back to the sender only. Queues are FIFO and hold commands until a worker exists.
 * @module
 */
import { CommandJob } from './internal/command-job.js'
import { type Body, decodeCommand, encodeCommand } from './internal/frames.js'
import type { Runtime } from './internal/runtime.js'
import { deadlineFor, failCall, failOnReject, waitForReply } from './internal/unary-call.js'
import { assertName } from './names.js'
import type { Closable, Delivery } from './spi.js'

/** Options of {@link Commands.send}. */
export interface SendOptions {
  /** Milliseconds to wait for the reply (and after which a still-queued command is dropped, not run). Default: the bus timeout (30 s). */
  timeout?: number
  /** Stops waiting for the reply. The command may already be running; it is not recalled. */
  signal?: AbortSignal
  /** Fire-and-forget: resolve once the command is queued; the worker sends no reply. */
  noReply?: boolean
  /** A sub-queue of the component, e.g. `high` for `camera.high`. */
  queue?: string
}

/** What a command handler receives besides the command. */
export interface CommandContext {
  /** Identifies the command within its sender. */
  readonly id: number
  /** The sender's component (empty when it has none). */
  readonly sender: string
  /** True when another worker took this command before and died without finishing it. */
  readonly redelivered: boolean
  /** Aborts when the command's deadline passes or the bus closes. */
  readonly signal: AbortSignal
  /** Epoch-ms deadline of the sender, or undefined when it waits forever. */
  readonly deadline: number | undefined
}

/** Handles one command; its return value is the reply. */
export type CommandHandler<C = unknown, R = unknown> = (command: C, ctx: CommandContext) => R | Promise<R>

/** Options of {@link Commands.handle}. */
export interface HandleOptions {
  /** How many commands this worker runs at once (default 1: strictly in order). */
  concurrency?: number
  /** The sub-queue to work on, e.g. `high`. */
  queue?: string
}

/** The commands facility of a bus. */
export class Commands {
  /** @internal */
  constructor(private readonly rt: Runtime) {}

  /**
   * Sends `command` to `component`'s queue and resolves with the worker's reply.
   * @param component - the destination component
   * @param command - any value the codec can encode
   * @param options - timeout, signal, noReply, sub-queue
   * @returns the reply, or undefined with `noReply`
   * @throws TimeoutError, AbortError, RemoteError (the worker threw), PayloadTooLargeError, ClosedError
   */
  send<R = unknown>(component: string, command: unknown, options?: SendOptions): Promise<R> {
    const rt = this.rt
    let queue: string
    let body: Body
    try {
      rt.assertOpen('commands.send')
      assertName('component', component)
      if (options?.signal) rt.assertNotAborted(options.signal, `command to '${component}'`)
      queue = queueName(component, options?.queue)
      body = rt.encodeBody(command)
    } catch (err) {
      return Promise.reject(err)
    }
    const id = rt.nextId()
    const timeout = options?.timeout ?? rt.options.defaultTimeout
    const sender = rt.options.component ?? ''
    if (options?.noReply) {
      const deadline = options?.timeout === undefined ? 0 : deadlineFor(timeout)
      const frame = encodeCommand({ id, body, replyTo: '', deadline, sender })
      try {
        return rt.transport.queues.push(queue, frame).then(() => undefined as R)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    const reply = waitForReply(rt, id, { timeout, signal: options?.signal, noun: 'command to', name: queue })
    const frame = encodeCommand({ id, body, replyTo: rt.address, deadline: deadlineFor(timeout), sender })
    try {
      failOnReject(rt, id, rt.transport.queues.push(queue, frame))
    } catch (err) {
      failCall(rt, id, err)
    }
    return reply as Promise<R>
  }

  /**
   * Starts a worker on this bus's component queue. Commands wait in the queue until a worker
   * exists; each command goes to one worker; the handler's return value (or thrown error) is
   * sent to the sender.
   * @param handler - `(command, ctx) => reply`
   * @param options - concurrency (default 1) and sub-queue
   * @returns a handle whose `close()` stops taking commands
   */
  async handle<C = unknown, R = unknown>(
    handler: CommandHandler<C, R>,
    options: HandleOptions = {},
  ): Promise<Closable> {
    const rt = this.rt
    rt.assertOpen('commands.handle')
    const component = rt.requireComponent('commands.handle')
    const queue = queueName(component, options.queue)
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1))
    const consumer = await rt.transport.queues.consume(
      queue,
      (delivery) => this.#run(delivery, handler as CommandHandler),
      { concurrency },
    )
    return rt.track(consumer)
  }

  #run(delivery: Delivery, handler: CommandHandler): void {
    const rt = this.rt
    let frame: ReturnType<typeof decodeCommand>
    try {
      frame = decodeCommand(delivery.data)
    } catch (err) {
      rt.options.logger.warn('unipc: dropped a malformed command', err)
      delivery.ack()
      return
    }
    if (frame.deadline > 0 && frame.deadline <= Date.now()) {
      rt.options.logger.debug(
        `unipc: dropped command ${frame.id} from ${frame.sender}: its sender stopped waiting`,
      )
      delivery.ack()
      return
    }
    const work = new CommandJob(rt, frame, delivery).run(handler)
    if (work) void rt.trackWork(work)
  }
}

/** The queue name of a component and optional sub-queue: `camera` or `camera.high`. */
export function queueName(component: string, sub?: string): string {
  if (sub === undefined) return component
  assertName('queue', sub)
  return `${component}.${sub}`
}
