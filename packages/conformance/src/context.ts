/**
 * What each case gets: unique names, buses that are closed when the case ends (pass or fail), and
 * helpers to wait for messages with a watchdog instead of sleeping.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Bus, ConnectOptions } from '@unipc/core'
import type { Observable, Subscription } from 'rxjs'
import type { ConformanceKnobs, ConformanceOptions } from './types.js'

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** Makes a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A deferred nobody awaits must not crash the run with an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves with the signal's reason once it aborts (for handlers that wait to be cancelled). */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason)
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
  })
}

/** An endless stream of 0, 1, 2… with a short pause between items. */
export async function* endless(): AsyncGenerator<number> {
  for (let i = 0; ; i++) {
    yield i
    await sleep(5)
  }
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`conformance: ${what} did not happen within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Returns what `promise` rejects with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('conformance: expected the operation to fail, but it succeeded')
}

/** Values an Observable emitted so far, with a way to wait for a condition on them. */
export class Recorder<T> {
  readonly values: T[] = []
  error: unknown
  completed = false
  readonly #subscription: Subscription
  readonly #waiters = new Set<() => void>()

  constructor(
    source: Observable<T>,
    private readonly waitTimeout: number,
  ) {
    this.#subscription = source.subscribe({
      next: (v) => {
        this.values.push(v)
        this.#wake()
      },
      error: (e) => {
        this.error = e
        this.#wake()
      },
      complete: () => {
        this.completed = true
        this.#wake()
      },
    })
  }

  /** Resolves once `check(values)` is true; rejects after the wait timeout or on an error. */
  until(check: (values: T[]) => boolean, what = 'the expected emission'): Promise<T[]> {
    return within(
      new Promise<T[]>((resolve, reject) => {
        const test = (): void => {
          if (check(this.values)) {
            this.#waiters.delete(test)
            resolve(this.values)
          } else if (this.error !== undefined) {
            this.#waiters.delete(test)
            reject(this.error)
          }
        }
        this.#waiters.add(test)
        test()
      }),
      this.waitTimeout,
      what,
    )
  }

  /** Resolves once at least `n` values arrived. */
  count(n: number): Promise<T[]> {
    return this.until((v) => v.length >= n, `${n} emissions (got ${this.values.length})`)
  }

  /** Resolves once the source completed. */
  complete(): Promise<T[]> {
    return this.until(() => this.completed, 'completion')
  }

  /** Stops listening. */
  unsubscribe(): void {
    this.#subscription.unsubscribe()
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }
}

/** The per-case toolbox: unique names, tracked buses, recorders and cleanup. */
export class CaseContext {
  readonly #buses: Bus[] = []
  readonly #cleanups: (() => unknown)[] = []
  readonly #id = randomBytes(4).toString('hex')
  #seq = 0

  constructor(
    private readonly options: ConformanceOptions,
    readonly knobs: ConformanceKnobs,
  ) {}

  /** A unique name for a component, method, key or channel token, e.g. `cmp-1a2b3c4d-1`. */
  name(kind = 'n'): string {
    return `${kind}-${this.#id}-${++this.#seq}`
  }

  /** Opens a bus on the transport under test; it is closed when the case ends. */
  async bus(options: ConnectOptions = {}): Promise<Bus> {
    // A short drain keeps cases whose handlers never finish from waiting 5 s in their cleanup.
    const bus = await this.options.connect({ drainTimeout: 1_000, ...options })
    this.#buses.push(bus)
    return bus
  }

  /** Records what an Observable emits; unsubscribed when the case ends. */
  record<T>(source: Observable<T>): Recorder<T> {
    const r = new Recorder(source, this.knobs.waitTimeout)
    this.defer(() => r.unsubscribe())
    return r
  }

  /**
   * Marks a promise the case awaits only later (a reply, a call that should fail), so that a
   * rejection arriving while the case awaits something else is not reported as unhandled.
   */
  pending<T>(promise: Promise<T>): Promise<T> {
    promise.catch(() => {})
    return promise
  }

  /** Waits for `promise`, failing after the wait timeout with a message naming `what`. */
  within<T>(promise: Promise<T>, what: string): Promise<T> {
    return within(promise, this.knobs.waitTimeout, what)
  }

  /** Polls `check` until it is true (fails after the wait timeout). */
  async until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const end = Date.now() + this.knobs.waitTimeout
    while (!(await check())) {
      if (Date.now() > end)
        throw new Error(`conformance: ${what} did not happen within ${this.knobs.waitTimeout} ms`)
      await sleep(10)
    }
  }

  /** Runs `fn` when the case ends (before buses close), in reverse order of registration. */
  defer(fn: () => unknown): void {
    this.#cleanups.push(fn)
  }

  /** Releases everything the case opened; never throws, never hangs longer than the wait timeout. */
  async dispose(): Promise<void> {
    for (const fn of this.#cleanups.reverse()) {
      try {
        await within(Promise.resolve(fn()), this.knobs.waitTimeout, 'a cleanup step')
      } catch {
        // Cleanup is best effort; the case has already passed or failed on its own merits.
      }
    }
    await Promise.allSettled(
      this.#buses.map((b) => within(b.close(), this.knobs.waitTimeout, 'closing a bus')),
    )
  }
}
