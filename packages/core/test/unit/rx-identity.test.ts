import * as rxjs from 'rxjs'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/index.js'
import { BehaviorSubject, Observable, Subject } from '../../src/internal/rx.js'

// The core imports these classes from their own rxjs modules (to skip loading every operator);
// they must be the very classes an app gets from 'rxjs', or instanceof checks and interop break.
describe('rxjs classes of the core', () => {
  it('are the classes the rxjs package exports', () => {
    expect(Observable).toBe(rxjs.Observable)
    expect(Subject).toBe(rxjs.Subject)
    expect(BehaviorSubject).toBe(rxjs.BehaviorSubject)
  })

  it('make observables that rxjs operators and helpers accept', async () => {
    const bus = await connect('memory://rx-identity')
    try {
      expect(bus.state$).toBeInstanceOf(rxjs.Observable)
      const values = bus.events.subscribe<number>('rx.*')
      expect(values).toBeInstanceOf(rxjs.Observable)
      const firstTwo = rxjs.firstValueFrom(
        values.pipe(
          rxjs.map((m) => m.data * 10),
          rxjs.take(2),
          rxjs.toArray(),
        ),
      )
      await values.ready
      await bus.events.publish('rx.a', 1)
      await bus.events.publish('rx.b', 2)
      expect(await firstTwo).toEqual([10, 20])
    } finally {
      await bus.close()
    }
  })
})
