/**
 * Events: exact, `*` and `>` patterns, fan-out, ordering, unsubscribe, and argument checks.
 * @module
 */
import { type Bus, type EventMessage, InvalidArgumentError } from '@unipc/core'
import type { CaseContext, Recorder } from '../context.js'
import type { Registrar } from '../registrar.js'

/** Subscribes and waits until the subscription is live. */
async function listen(t: CaseContext, bus: Bus, pattern: string): Promise<Recorder<EventMessage>> {
  const sub = bus.events.subscribe(pattern)
  const rec = t.record(sub)
  await t.within(sub.ready, `subscription to ${pattern} becoming ready`)
  return rec
}

/** Waits for the event on `channel` carrying `data`, used as an end-of-test sentinel. */
function seen(rec: Recorder<EventMessage>, channel: string, data: unknown = 'end'): Promise<unknown> {
  return rec.until((v) => v.some((e) => e.channel === channel && e.data === data), `event on ${channel}`)
}

/** Registers the events cases. */
export function eventCases(r: Registrar): void {
  const { expect } = r
  r.group('events', () => {
    r.test('a subscriber receives the channel and data of a published event', async (t) => {
      const base = t.name('ev')
      const sub = await t.bus()
      const pub = await t.bus()
      const rec = await listen(t, sub, `${base}.started`)
      await pub.events.publish(`${base}.started`, { at: 1, who: 'cam' })
      await rec.count(1)
      expect(rec.values).toEqual([{ channel: `${base}.started`, data: { at: 1, who: 'cam' } }])
    })

    r.test('an exact pattern receives only its own channel', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, `${base}.a`)
      await bus.events.publish(`${base}.a.b`, 'x')
      await bus.events.publish(`${base}.b`, 'x')
      await bus.events.publish(base, 'x')
      await bus.events.publish(`${base}.a`, 'end')
      await seen(rec, `${base}.a`)
      expect(rec.values.map((e) => e.channel)).toEqual([`${base}.a`])
    })

    r.test('a * pattern matches exactly one token', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, `${base}.*`)
      for (const c of [`${base}.a`, `${base}.a.b`, base, `${base}.c`]) await bus.events.publish(c, c)
      await bus.events.publish(`${base}.z`, 'end')
      await seen(rec, `${base}.z`)
      expect(rec.values.map((e) => e.channel)).toEqual([`${base}.a`, `${base}.c`, `${base}.z`])
    })

    r.test('a * in the middle of a pattern matches one token there', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, `${base}.*.ready`)
      for (const c of [`${base}.cam.ready`, `${base}.cam.busy`, `${base}.a.b.ready`])
        await bus.events.publish(c, c)
      await bus.events.publish(`${base}.mic.ready`, 'end')
      await seen(rec, `${base}.mic.ready`)
      expect(rec.values.map((e) => e.channel)).toEqual([`${base}.cam.ready`, `${base}.mic.ready`])
    })

    r.test('a > pattern matches one or more trailing tokens but not the prefix itself', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, `${base}.>`)
      for (const c of [base, `${base}.a`, `${base}.a.b.c`]) await bus.events.publish(c, c)
      await bus.events.publish(`${base}.z`, 'end')
      await seen(rec, `${base}.z`)
      expect(rec.values.map((e) => e.channel)).toEqual([`${base}.a`, `${base}.a.b.c`, `${base}.z`])
    })

    r.test('a lone > pattern receives events of every channel', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, '>')
      await bus.events.publish(base, 1)
      await bus.events.publish(`${base}.deep.channel`, 2)
      await bus.events.publish(`${base}.z`, 'end')
      await seen(rec, `${base}.z`)
      const mine = rec.values.filter((e) => e.channel.startsWith(base)).map((e) => e.channel)
      expect(mine).toEqual([base, `${base}.deep.channel`, `${base}.z`])
    })

    r.test('every subscriber of a matching pattern receives the event', async (t) => {
      const base = t.name('ev')
      const pub = await t.bus()
      const recs = []
      for (const pattern of [`${base}.x`, `${base}.*`, `${base}.>`])
        recs.push(await listen(t, await t.bus(), pattern))
      await pub.events.publish(`${base}.x`, 'end')
      for (const rec of recs) await seen(rec, `${base}.x`)
    })

    r.test('events from one publisher arrive in the order they were published', async (t) => {
      const base = t.name('ev')
      const sub = await t.bus()
      const pub = await t.bus()
      const rec = await listen(t, sub, `${base}.seq`)
      const ns = Array.from({ length: 100 }, (_, i) => i)
      for (const n of ns) void pub.events.publish(`${base}.seq`, n)
      await rec.count(ns.length)
      expect(rec.values.map((e) => e.data)).toEqual(ns)
    })

    r.test('after unsubscribe a subscriber receives nothing more', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const stopped = await listen(t, bus, `${base}.k`)
      const control = await listen(t, bus, `${base}.k`)
      await bus.events.publish(`${base}.k`, 1)
      await seen(stopped, `${base}.k`, 1)
      stopped.unsubscribe()
      await bus.events.publish(`${base}.k`, 2)
      await seen(control, `${base}.k`, 2)
      expect(stopped.values.map((e) => e.data)).toEqual([1])
    })

    r.test('closing a subscription completes its subscribers', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const sub = bus.events.subscribe(`${base}.c`)
      const rec = t.record(sub)
      await sub.ready
      await sub.close()
      await rec.complete()
    })

    r.test('a subscription can be read with for await', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const sub = bus.events.subscribe<number>(`${base}.n`)
      await sub.ready
      const published = (async () => {
        for (const n of [1, 2, 3]) await bus.events.publish(`${base}.n`, n)
      })()
      const got: number[] = []
      for await (const e of sub) {
        got.push(e.data)
        if (got.length === 3) break
      }
      await published
      expect(got).toEqual([1, 2, 3])
    })

    r.test('aborting the subscribe signal ends the subscription', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const controller = new AbortController()
      const sub = bus.events.subscribe(`${base}.s`, { signal: controller.signal })
      const rec = t.record(sub)
      await sub.ready
      controller.abort()
      await rec.complete()
    })

    r.test('publishing to a channel with a wildcard fails with InvalidArgumentError', async (t) => {
      const bus = await t.bus()
      await expect(bus.events.publish(`${t.name('ev')}.*`, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    r.test('subscribing with a malformed pattern fails with InvalidArgumentError', async (t) => {
      const bus = await t.bus()
      expect(() => bus.events.subscribe(`${t.name('ev')}.>.x`)).toThrow(InvalidArgumentError)
    })

    r.test('a bus receives the events it publishes itself', async (t) => {
      const base = t.name('ev')
      const bus = await t.bus()
      const rec = await listen(t, bus, `${base}.self`)
      await bus.events.publish(`${base}.self`, 'end')
      await seen(rec, `${base}.self`)
    })

    r.test(
      'two rxjs subscribers of one subscription both receive, and one leaving keeps the other',
      async (t) => {
        const base = t.name('ev')
        const bus = await t.bus()
        const sub = bus.events.subscribe(`${base}.x`)
        const first = t.record(sub)
        const second = t.record(sub)
        await sub.ready
        await bus.events.publish(`${base}.x`, 1)
        await seen(first, `${base}.x`, 1)
        await seen(second, `${base}.x`, 1)
        first.unsubscribe()
        await bus.events.publish(`${base}.x`, 2)
        await seen(second, `${base}.x`, 2)
        expect(first.values.map((e) => e.data)).toEqual([1])
      },
    )

    r.test('a burst of 1000 events reaches a subscriber complete and in order', async (t) => {
      const base = t.name('ev')
      const sub = await t.bus()
      const pub = await t.bus()
      const rec = await listen(t, sub, `${base}.burst`)
      const ns = Array.from({ length: 1000 }, (_, i) => i)
      await Promise.all(ns.map((n) => pub.events.publish(`${base}.burst`, n)))
      await rec.count(ns.length)
      expect(rec.values.map((e) => e.data)).toEqual(ns)
    })
  })
}
