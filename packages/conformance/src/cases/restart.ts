/**
 * Restart cases: the server or broker restarts under open buses (through `options.restart`). Buses
 * report `reconnecting` then `connected` and work again; with `persistence`, settings and queued
 * commands survive. Skipped with a reason when no restart hook is configured.
 * @module
 */
import type { Bus, ConnectionState } from '@unipc/core'
import type { CaseContext } from '../context.js'
import type { Registrar } from '../registrar.js'

/** Registers the restart cases. */
export function restartCases(r: Registrar): void {
  const { expect } = r
  const restart = async (t: CaseContext, buses: Bus[]): Promise<void> => {
    if (!r.options.restart) throw new Error('conformance: options.restart is required')
    await t.within(r.options.restart(), 'the server restarting')
    // Every bus must be connected again before the case goes on.
    for (const bus of buses) await t.until(() => bus.state === 'connected', 'the bus reconnecting')
  }

  r.group('restart', () => {
    r.test(
      'a bus reports reconnecting, then connected, when its server restarts',
      async (t) => {
        const bus = await t.bus()
        const rec = t.record(bus.state$)
        await restart(t, [bus])
        await rec.until((v) => v[v.length - 1] === 'connected' && v.includes('reconnecting'), 'reconnected')
        expect(rec.values[0]).toBe<ConnectionState>('connected')
      },
      { restart: true, slow: 2 },
    )

    r.test(
      'calls, commands and events work again after the server restarted',
      async (t) => {
        const component = t.name('cmp')
        const method = t.name('m')
        const server = await t.bus({ component })
        await server.requests.serve(method, (n: number) => n * 2)
        await server.commands.handle((n: number) => n + 1)
        const client = await t.bus()
        await restart(t, [server, client])
        await t.until(
          () =>
            client.requests.call(method, 1, { timeout: 1_000 }).then(
              (v) => v === 2,
              () => false,
            ),
          'a call succeeding again',
        )
        expect(await client.commands.send(component, 1)).toBe(2)
        const channel = `${t.name('ev')}.after`
        const sub = client.events.subscribe(channel)
        const rec = t.record(sub)
        await sub.ready
        await server.events.publish(channel, 'back')
        await rec.count(1)
      },
      { restart: true, slow: 2 },
    )

    r.test(
      'settings survive a restart of the server',
      async (t) => {
        const component = t.name('cmp')
        const bus = await t.bus()
        await bus.settings.setMany(component, { kept: 1, also: 'yes' })
        await restart(t, [bus])
        const fresh = await t.bus()
        expect(await fresh.settings.getAll(component)).toEqual({ kept: 1, also: 'yes' })
      },
      { restart: true, requires: ['persistence'], slow: 2 },
    )

    r.test(
      'commands queued for a missing worker survive a restart of the server',
      async (t) => {
        const component = t.name('cmp')
        const sender = await t.bus()
        await sender.commands.send(component, 'queued', { noReply: true })
        await restart(t, [sender])
        const worker = await t.bus({ component })
        const got: unknown[] = []
        await worker.commands.handle((c) => {
          got.push(c)
        })
        await t.until(() => got.length > 0, 'the queued command arriving')
        expect(got).toEqual(['queued'])
      },
      { restart: true, requires: ['persistence'], slow: 2 },
    )
  })
}
