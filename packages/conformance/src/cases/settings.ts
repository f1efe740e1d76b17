/**
 * Settings: get/set/getAll/delete and watch emitting the current value first, then each change.
 * @module
 */
import type { Registrar } from '../registrar.js'

/** Registers the settings cases. */
export function settingsCases(r: Registrar): void {
  const { expect } = r
  r.group('settings', () => {
    r.test('a value set by one bus is read by another', async (t) => {
      const component = t.name('cmp')
      const writer = await t.bus()
      const reader = await t.bus()
      await writer.settings.set(component, 'fps', 30)
      expect(await reader.settings.get(component, 'fps')).toBe(30)
    })

    r.test('reading a key that was never set gives undefined', async (t) => {
      const bus = await t.bus()
      expect(await bus.settings.get(t.name('cmp'), 'missing')).toBeUndefined()
    })

    r.test('the last value set wins', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      await bus.settings.set(component, 'mode', 'a')
      await bus.settings.set(component, 'mode', 'b')
      await bus.settings.set(component, 'mode', { nested: ['c'] })
      expect(await bus.settings.get(component, 'mode')).toEqual({ nested: ['c'] })
    })

    r.test('getAll returns every key of a component as an object', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      await bus.settings.set(component, 'a', 1)
      await bus.settings.set(component, 'b', 'two')
      await bus.settings.setMany(component, { c: [3], d: null })
      expect(await bus.settings.getAll(component)).toEqual({ a: 1, b: 'two', c: [3], d: null })
    })

    r.test('getAll of a component without settings is an empty object', async (t) => {
      const bus = await t.bus()
      expect(await bus.settings.getAll(t.name('cmp'))).toEqual({})
    })

    r.test('delete removes a key from get and getAll', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      await bus.settings.setMany(component, { keep: 1, drop: 2 })
      await bus.settings.delete(component, 'drop')
      expect(await bus.settings.get(component, 'drop')).toBeUndefined()
      expect(await bus.settings.getAll(component)).toEqual({ keep: 1 })
    })

    r.test('settings of one component are separate from those of another', async (t) => {
      const a = t.name('cmp')
      const b = t.name('cmp')
      const bus = await t.bus()
      await bus.settings.set(a, 'k', 'for a')
      await bus.settings.set(b, 'k', 'for b')
      expect(await bus.settings.get(a, 'k')).toBe('for a')
      expect(await bus.settings.getAll(b)).toEqual({ k: 'for b' })
    })

    r.test('watching a key emits its current value first, then each change', async (t) => {
      const component = t.name('cmp')
      const writer = await t.bus()
      const watcher = await t.bus()
      await writer.settings.set(component, 'level', 1)
      const rec = t.record(watcher.settings.watch(component, 'level'))
      await rec.count(1)
      expect(rec.values[0]).toBe(1)
      await writer.settings.set(component, 'level', 2)
      await writer.settings.set(component, 'level', 3)
      await rec.until((v) => v[v.length - 1] === 3, 'the last change')
      expect(rec.values).toEqual([1, 2, 3])
    })

    r.test('watching a key that is not set emits undefined first, then the value once set', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      const rec = t.record(bus.settings.watch(component, 'later'))
      await rec.count(1)
      await bus.settings.set(component, 'later', 'now')
      await rec.count(2)
      expect(rec.values).toEqual([undefined, 'now'])
    })

    r.test('watching a key emits undefined when the key is deleted', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      await bus.settings.set(component, 'temp', true)
      const rec = t.record(bus.settings.watch(component, 'temp'))
      await rec.count(1)
      await bus.settings.delete(component, 'temp')
      await rec.count(2)
      expect(rec.values).toEqual([true, undefined])
    })

    r.test('watching a key ignores changes to other keys', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      const rec = t.record(bus.settings.watch(component, 'mine'))
      await rec.count(1)
      await bus.settings.set(component, 'other', 1)
      await bus.settings.set(component, 'mine', 2)
      await rec.count(2)
      expect(rec.values).toEqual([undefined, 2])
    })

    r.test(
      'watching a component emits all its settings first, then the whole object on each change',
      async (t) => {
        const component = t.name('cmp')
        const writer = await t.bus()
        const watcher = await t.bus()
        await writer.settings.setMany(component, { a: 1, b: 2 })
        const rec = t.record(watcher.settings.watch(component))
        await rec.count(1)
        expect(rec.values[0]).toEqual({ a: 1, b: 2 })
        await writer.settings.set(component, 'c', 3)
        await rec.until((v) => 'c' in (v[v.length - 1] ?? {}), 'the change with c')
        await writer.settings.delete(component, 'a')
        await rec.until((v) => !('a' in (v[v.length - 1] ?? {})), 'the change without a')
        expect(rec.values[rec.values.length - 1]).toEqual({ b: 2, c: 3 })
      },
    )

    r.test('a watch stops emitting after unsubscribe', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      const stopped = t.record(bus.settings.watch<number>(component, 'k'))
      const control = t.record(bus.settings.watch<number>(component, 'k'))
      await stopped.count(1)
      await control.count(1)
      await bus.settings.set(component, 'k', 1)
      await stopped.count(2)
      stopped.unsubscribe()
      await bus.settings.set(component, 'k', 2)
      await control.until((v) => v.includes(2), 'the control watch seeing 2')
      expect(stopped.values).toEqual([undefined, 1])
    })

    r.test('settings keys and components may use unicode letters', async (t) => {
      const component = `kamera-${t.name('ü')}`
      const bus = await t.bus()
      await bus.settings.set(component, 'größe', '大きい')
      expect(await bus.settings.getAll(component)).toEqual({ größe: '大きい' })
    })

    r.test('setMany changes reach a component watch', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      const rec = t.record(bus.settings.watch(component))
      await rec.count(1)
      await bus.settings.setMany(component, { x: 1, y: 2 })
      await rec.until((v) => v[v.length - 1]?.x === 1 && v[v.length - 1]?.y === 2, 'both keys')
    })

    r.test('a watch that sees a burst of changes ends on the last value written', async (t) => {
      const component = t.name('cmp')
      const writer = await t.bus()
      const watcher = await t.bus()
      const rec = t.record(watcher.settings.watch<number>(component, 'n'))
      await rec.count(1)
      await Promise.all(Array.from({ length: 100 }, (_, i) => writer.settings.set(component, 'n', i)))
      await rec.until((v) => v[v.length - 1] === 99, 'the last value')
      expect(await watcher.settings.get(component, 'n')).toBe(99)
    })
  })
}
