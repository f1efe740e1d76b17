/**
 * Batching the hot-path commands of one turn: what a bus sends while one piece of I/O (and the
 * promise reactions it triggers) runs — replies, request dispatches, acknowledgements, queue pushes,
 * events — is collected by its facility and written at the end of the turn (process.nextTick, after
 * the microtasks) as few commands in one socket write. A lone request still leaves at once; 64
 * requests in flight become one dispatch script, one PUBLISH per inbox and one XACK instead of 192
 * commands. Unlike ioredis auto-pipelining nothing waits for earlier replies.
 * @module
 */
import type { Writable } from 'node:stream'
import type { Client } from './client.js'

/** A flush that writes what a facility collected this turn; it settles its callers itself. */
export type FlushTask = () => void

/** Runs the flush tasks scheduled during one turn at its end, corked into one socket write. */
export class TurnBatcher {
  #tasks: FlushTask[] = []
  #late: FlushTask[] = []
  #after: FlushTask[] = []
  #scheduled = false

  /**
   * @param client - the command connection the flushes write to (corked while they run)
   * @param onError - receives what a flush threw (a bug: flushes settle their callers themselves)
   */
  constructor(
    private readonly client: Client,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Runs `task` at the end of this turn, after the tasks scheduled before it; `late` tasks run after
   * all others (acknowledgements, so they follow the replies of the same turn). A facility schedules
   * its task once per turn, when it first has something to write.
   */
  schedule(task: FlushTask, late = false): void {
    ;(late ? this.#late : this.#tasks).push(task)
    this.#arm()
  }

  /**
   * Runs `task` at the end of this turn, once its batched writes have left (uncorked): a blocking
   * reader re-arms its read there, so the replies and acknowledgements a delivery produced reach
   * Redis first and the read's own write is off the critical path of the call being answered.
   */
  afterFlush(task: FlushTask): void {
    this.#after.push(task)
    this.#arm()
  }

  #arm(): void {
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(() => this.flushNow())
    }
  }

  /** Runs every scheduled task now (before a recovery read, or when closing). */
  flushNow(): void {
    this.#scheduled = false
    if (this.#tasks.length > 0 || this.#late.length > 0) this.#write()
    if (this.#after.length > 0) {
      const after = this.#after
      this.#after = []
      for (const task of after) task()
    }
  }

  #write(): void {
    const tasks = this.#tasks.concat(this.#late)
    this.#tasks = []
    this.#late = []
    // One socket write for all of them (a Cluster client has no single stream: no corking there).
    const stream = (this.client as { stream?: Writable }).stream
    const cork = stream !== undefined && typeof stream.cork === 'function' && !stream.writableCorked
    if (cork) stream.cork()
    try {
      for (const task of tasks) {
        try {
          task()
        } catch (err) {
          this.onError(err)
        }
      }
    } finally {
      if (cork) stream.uncork()
    }
  }
}
