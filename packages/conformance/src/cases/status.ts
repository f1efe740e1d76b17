/**
 * Status: merge semantics, get/watch with the current snapshot first, and liveness.
 * @module
 */
import { InvalidArgumentError, type StatusSnapshot } from '@unipc/core'
import { rejectionOf } from '../context.js'
import type { Registrar } from '../registrar.js'

/** Registers the status cases. */
export function statusCases(r: Registrar): void {
  const { expect } = r
  const liveness = () => ({ interval: r.knobs.livenessInterval, timeout: r.knobs.livenessInterval * 3 })
  r.group('status', () => {
    r.test('a status update is read by another bus with the component online', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component })
      const reader = await t.bus()
      await owner.status.update({ state: 'recording', fps: 25 })
      const s = await reader.status.get(component)
      expect(s).toMatchObject({ component, online: true, fields: { state: 'recording', fps: 25 } })
      expect(s.lastSeen).toBeGreaterThan(0)
    })

    r.test('updates merge field by field instead of replacing the status', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component })
      await owner.status.update({ a: 1, b: 1 })
      await owner.status.update({ b: 2, c: 3 })
      expect((await owner.status.get(component)).fields).toEqual({ a: 1, b: 2, c: 3 })
    })

    r.test('clear removes the named fields only', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component })
      await owner.status.update({ a: 1, b: 2 })
      await owner.status.clear('a')
      expect((await owner.status.get(component)).fields).toEqual({ b: 2 })
    })

    r.test('a component that never connected reads offline with no fields', async (t) => {
      const reader = await t.bus()
      const s = await reader.status.get(t.name('ghost'))
      expect(s).toMatchObject({ online: false, fields: {}, lastSeen: undefined })
    })

    r.test('status.update on a bus without a component fails with InvalidArgumentError', async (t) => {
      const bus = await t.bus()
      expect(await rejectionOf(bus.status.update({ x: 1 }))).toBeInstanceOf(InvalidArgumentError)
    })

    r.test('status field names starting with $ are rejected', async (t) => {
      const bus = await t.bus({ component: t.name('cmp') })
      expect(await rejectionOf(bus.status.update({ $alive: 1 }))).toBeInstanceOf(InvalidArgumentError)
    })

    r.test('watching a status emits the current snapshot first, then each update', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component })
      const watcher = await t.bus()
      await owner.status.update({ step: 1 })
      const rec = t.record(watcher.status.watch(component))
      await rec.count(1)
      expect(rec.values[0]).toMatchObject({ component, online: true, fields: { step: 1 } })
      await owner.status.update({ step: 2 })
      await rec.until((v) => v[v.length - 1]?.fields.step === 2, 'the update to step 2')
      expect(rec.values[rec.values.length - 1]).toMatchObject({ online: true, fields: { step: 2 } })
    })

    r.test('a component whose bus closes reads offline, and online again when it reconnects', async (t) => {
      const component = t.name('cmp')
      const watcher = await t.bus()
      const first = await t.bus({ component, liveness: liveness() })
      await first.status.update({ run: 1 })
      const rec = t.record(watcher.status.watch(component))
      const online = (s: StatusSnapshot | undefined): boolean => s?.online === true
      await rec.until((v) => online(v[v.length - 1]), 'online')
      await first.close()
      await rec.until((v) => !online(v[v.length - 1]), 'offline after close')
      expect((await watcher.status.get(component)).online).toBe(false)
      const second = await t.bus({ component, liveness: liveness() })
      await rec.until((v) => online(v[v.length - 1]), 'online after reconnecting')
      expect((await watcher.status.get(component)).online).toBe(true)
      expect(rec.values[rec.values.length - 1]?.fields).toEqual({ run: 1 })
      await second.close()
    })

    r.test('a component stays online while it keeps heart-beating past the offline timeout', async (t) => {
      const component = t.name('cmp')
      const options = liveness()
      await t.bus({ component, liveness: options })
      const watcher = await t.bus()
      const rec = t.record(watcher.status.watch(component))
      await rec.count(1)
      await new Promise((resolve) => setTimeout(resolve, options.timeout * 3))
      expect(rec.values.every((s) => s.online)).toBe(true)
      expect((await watcher.status.get(component)).online).toBe(true)
    })

    r.test(
      'status of a component and its online flag are visible to a bus that connects later',
      async (t) => {
        const component = t.name('cmp')
        const owner = await t.bus({ component })
        await owner.status.update({ ready: true })
        const late = await t.bus()
        const rec = t.record(late.status.watch(component))
        await rec.count(1)
        expect(rec.values[0]).toMatchObject({ online: true, fields: { ready: true } })
      },
    )

    r.test('a watch started before a component connects sees it come online', async (t) => {
      const component = t.name('cmp')
      const watcher = await t.bus()
      const rec = t.record(watcher.status.watch(component))
      await rec.count(1)
      expect(rec.values[0]).toMatchObject({ online: false, fields: {} })
      const owner = await t.bus({ component, liveness: liveness() })
      await owner.status.update({ up: true })
      await rec.until(
        (v) => v[v.length - 1]?.online === true && v[v.length - 1]?.fields.up === true,
        'online',
      )
    })

    r.test('a component connected without liveness publishes fields but reads offline', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component, liveness: false })
      await owner.status.update({ quiet: true })
      expect(await owner.status.get(component)).toMatchObject({ online: false, fields: { quiet: true } })
    })

    r.test('a burst of status updates ends with every field at its last value', async (t) => {
      const component = t.name('cmp')
      const owner = await t.bus({ component })
      const watcher = await t.bus()
      const rec = t.record(watcher.status.watch(component))
      await rec.count(1)
      await Promise.all(Array.from({ length: 50 }, (_, i) => owner.status.update({ i, [`f${i % 5}`]: i })))
      await rec.until((v) => v[v.length - 1]?.fields.i === 49, 'the last update')
      expect(rec.values[rec.values.length - 1]?.fields).toEqual({
        i: 49,
        f0: 45,
        f1: 46,
        f2: 47,
        f3: 48,
        f4: 49,
      })
    })
  })
}
