import { Subject } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { observableIterator, UnipcObservable } from '../../src/index.js'

describe('async iteration of observables', () => {
  it('hands values to several next() calls waiting at once, in order', async () => {
    const subject = new Subject<number>()
    const it = observableIterator(subject)
    const first = it.next()
    const second = it.next()
    subject.next(1)
    subject.next(2)
    expect(await Promise.all([first, second])).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
    ])
  })

  it('ends every waiting next() when the source completes', async () => {
    const subject = new Subject<number>()
    const it = observableIterator(subject)
    const waiting = [it.next(), it.next()]
    subject.complete()
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ])
  })

  it('ends a waiting next() when the consumer returns, and unsubscribes', async () => {
    const subject = new Subject<number>()
    const it = observableIterator(subject)
    const waiting = it.next()
    await it.return?.()
    expect(await waiting).toEqual({ value: undefined, done: true })
    expect(subject.observed).toBe(false)
  })

  it('delivers buffered values before an error, then throws it', async () => {
    const subject = new Subject<number>()
    const it = observableIterator(subject)
    subject.next(7)
    subject.error(new Error('boom'))
    expect(await it.next()).toEqual({ value: 7, done: false })
    await expect(it.next()).rejects.toThrow('boom')
  })

  it('makes a UnipcObservable usable with for await and break', async () => {
    const subject = new Subject<number>()
    const obs = new UnipcObservable<number>((s) => subject.subscribe(s))
    const got: number[] = []
    const loop = (async () => {
      for await (const n of obs) {
        got.push(n)
        if (n === 2) break
      }
    })()
    await Promise.resolve()
    subject.next(1)
    subject.next(2)
    await loop
    expect(got).toEqual([1, 2])
    expect(subject.observed).toBe(false)
  })
})
