/**
 * Frames waiting for a cumulative confirmation (`Pushed`, `Dispatched`): rids only grow, so they
 * wait in arrival order in plain arrays and a confirmation resolves a prefix. A Map cost an entry
 * array per element on every confirmation and a hash insert per command.
 * @module
 */

type Settle = (value: unknown) => void

/** Waiting frames of one kind, in rid order. */
export class Confirmations<T> {
  #rids: number[] = []
  #resolves: ((value: T) => void)[] = []
  #rejects: ((err: Error) => void)[] = []
  #head = 0

  /** Waits for the confirmation of `rid` (greater than every rid added before). */
  add(rid: number, resolve: (value: T) => void, reject: (err: Error) => void): void {
    this.#rids.push(rid)
    this.#resolves.push(resolve)
    this.#rejects.push(reject)
  }

  /** Resolves every waiting rid up to `upTo` with `value`. */
  confirm(upTo: number, value: T): void {
    const rids = this.#rids
    let i = this.#head
    while (i < rids.length && (rids[i] as number) <= upTo) {
      const resolve = this.#resolves[i] as (value: T) => void
      this.#resolves[i] = noop
      this.#rejects[i] = noop
      this.#head = ++i
      resolve(value)
    }
    this.#compact()
  }

  /** Rejects the one frame `rid` (it failed); false when it is not waiting here. */
  fail(rid: number, err: Error): boolean {
    const rids = this.#rids
    for (let i = this.#head; i < rids.length; i++) {
      if (rids[i] !== rid) continue
      const reject = this.#rejects[i] as (err: Error) => void
      if (reject === noop) return false
      this.#resolves[i] = noop
      this.#rejects[i] = noop
      if (i === this.#head) {
        this.#head++
        this.#compact()
      }
      reject(err)
      return true
    }
    return false
  }

  /** Rejects everything waiting (the link is gone). */
  failAll(err: Error): void {
    const rejects = this.#rejects.slice(this.#head)
    this.#rids = []
    this.#resolves = []
    this.#rejects = []
    this.#head = 0
    for (const reject of rejects) reject(err)
  }

  /** Drops the settled prefix once it is all or most of the arrays. */
  #compact(): void {
    const n = this.#rids.length
    const head = this.#head
    if (head === n) {
      this.#rids.length = 0
      this.#resolves.length = 0
      this.#rejects.length = 0
      this.#head = 0
    } else if (head > 1024 && head * 2 > n) {
      this.#rids = this.#rids.slice(head)
      this.#resolves = this.#resolves.slice(head)
      this.#rejects = this.#rejects.slice(head)
      this.#head = 0
    }
  }
}

const noop: Settle = () => {}
