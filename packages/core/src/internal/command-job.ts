/**
 * One command in the hands of a worker: its context (with a signal made only if the handler asks),
 * the reply, and the acknowledgement. A handler that returns a plain value is answered before
 * `run` returns, with no promise allocated: on a busy queue every allocation is paid per command.
 * @module
 */
import type { CommandContext, CommandHandler } from '../commands.js'
import { TimeoutError } from '../errors.js'
import type { Delivery } from '../spi.js'
import { encodableError } from './error-frame.js'
import { type CommandFrame, FrameKind } from './frames.js'
import { type AbortOwner, LazyAbort } from './lazy-abort.js'
import { isThenable } from './promises.js'
import { abortReason, type Runtime } from './runtime.js'

/** What a handler sees of its command. */
class JobContext implements CommandContext {
  readonly id: number
  readonly sender: string
  readonly redelivered: boolean
  readonly deadline: number | undefined
  readonly #abort: LazyAbort

  constructor(frame: CommandFrame, redelivered: boolean, abort: LazyAbort) {
    this.id = frame.id
    this.sender = frame.sender
    this.redelivered = redelivered
    this.deadline = frame.deadline || undefined
    this.#abort = abort
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }
}

/** A command being run by a worker. */
export class CommandJob implements AbortOwner {
  readonly #rt: Runtime
  readonly #frame: CommandFrame
  readonly #delivery: Delivery
  // The signal, its deadline timer and its close listener exist only if the handler reads
  // ctx.signal: most handlers never do, and they are a measurable share of a command's cost.
  readonly #abort = new LazyAbort(this)
  #timer: NodeJS.Timeout | undefined
  #listening = false
  #interrupted = false

  /**
   * @param rt - the worker bus's runtime
   * @param frame - the decoded command
   * @param delivery - the queue delivery, acknowledged when the job is done (unless interrupted)
   */
  constructor(rt: Runtime, frame: CommandFrame, delivery: Delivery) {
    this.#rt = rt
    this.#frame = frame
    this.#delivery = delivery
  }

  /** Runs `handler`; returns a promise only when its work is asynchronous (the bus drains it on close). */
  run(handler: CommandHandler): Promise<void> | undefined {
    let result: unknown
    try {
      result = handler(
        this.#rt.decodeBody(this.#frame.body),
        new JobContext(this.#frame, this.#delivery.redelivered, this.#abort),
      )
      if (!isThenable(result)) {
        this.#answer(result)
        this.#finish()
        return undefined
      }
    } catch (err) {
      this.#failed(err)
      this.#finish()
      return undefined
    }
    return this.#continue(result)
  }

  /** The handler asked for its signal (LazyAbort owner): arm its deadline and the close listener. */
  signalMade(): void {
    this.#armSignal()
  }

  /** The bus is closing: the handler's signal aborts (EventListener interface, no closure). */
  handleEvent(): void {
    this.#abort.abort(abortReason(this.#rt.closingSignal, 'command'))
  }

  async #continue(pending: PromiseLike<unknown>): Promise<void> {
    try {
      this.#answer(await pending)
    } catch (err) {
      this.#failed(err)
    } finally {
      this.#finish()
    }
  }

  #answer(result: unknown): void {
    const f = this.#frame
    if (f.replyTo) this.#rt.sendBody(FrameKind.Result, f.replyTo, f.id, this.#rt.encodeBody(result))
  }

  #failed(err: unknown): void {
    const rt = this.#rt
    const f = this.#frame
    if (rt.closed && rt.transport.supports.redelivery) {
      // The bus closing interrupted the handler: the command is left unacknowledged, so the
      // transport hands it to another worker (flagged redelivered) instead of failing the sender.
      this.#interrupted = true
      rt.options.logger.debug(`unipc: command ${f.id} interrupted by close; it will be redelivered`)
    } else if (f.replyTo) {
      rt.sendFrame(f.replyTo, {
        kind: FrameKind.Error,
        id: f.id,
        error: encodableError(err, rt.options.sendErrorStacks),
      })
    } else
      rt.options.logger.warn(
        `unipc: command handler failed on a fire-and-forget command from ${f.sender}`,
        err,
      )
  }

  #finish(): void {
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#listening) this.#rt.closingSignal.removeEventListener('abort', this)
    if (!this.#interrupted) this.#delivery.ack()
  }

  #armSignal(): void {
    const rt = this.#rt
    if (rt.closed) {
      this.handleEvent()
      return
    }
    rt.closingSignal.addEventListener('abort', this, { once: true })
    this.#listening = true
    const deadline = this.#frame.deadline
    if (deadline > 0) {
      this.#timer = setTimeout(
        () => this.#abort.abort(new TimeoutError(`command ${this.#frame.id}`, deadline - Date.now())),
        Math.max(0, deadline - Date.now()),
      )
    }
  }
}
