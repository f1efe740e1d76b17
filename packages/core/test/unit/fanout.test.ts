/** The multicast behind event subscriptions behaves like an rxjs Subject where it matters. */
import { Observable } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { Fanout } from '../../src/internal/fanout.js'

const observe = <T>(f: Fanout<T>) => new Observable<T>((s) => f.add(s))

describe('Fanout', () => {
  it('delivers to every subscriber, and one leaving during a delivery does not skip the others', () => {
    const f = new Fanout<number>()
    const seen: string[] = []
    const a = observe(f).subscribe((v) => {
      seen.push(`a${v}`)
      a.unsubscribe()
    })
    observe(f).subscribe((v) => seen.push(`b${v}`))
    f.next(1)
    f.next(2)
    expect(seen).toEqual(['a1', 'b1', 'b2'])
  })

  it('isolates a subscriber whose handler throws', () => {
    const f = new Fanout<number>()
    const seen: number[] = []
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    process.on('uncaughtException', onError)
    observe(f).subscribe(() => {
      throw new Error('handler bug')
    })
    observe(f).subscribe((v) => seen.push(v))
    f.next(7)
    expect(seen).toEqual([7])
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        process.off('uncaughtException', onError)
        expect(errors).toHaveLength(1)
        resolve()
      }, 10),
    )
  })

  it('ends current and later subscribers with complete or error', () => {
    const done = new Fanout<number>()
    const events: string[] = []
    observe(done).subscribe({ complete: () => events.push('early complete') })
    done.complete()
    done.next(1)
    observe(done).subscribe({
      next: () => events.push('late next'),
      complete: () => events.push('late complete'),
    })
    const failed = new Fanout<number>()
    failed.error(new Error('gone'))
    observe(failed).subscribe({ error: (e: Error) => events.push(`late error ${e.message}`) })
    expect(events).toEqual(['early complete', 'late complete', 'late error gone'])
  })
})
