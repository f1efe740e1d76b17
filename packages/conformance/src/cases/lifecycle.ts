/**
 * Lifecycle: state$, close() rejecting pending calls, use after close, idempotent close and
 * `Symbol.asyncDispose`, and the transport manifest.
 * @module
 */
import {
  ClosedError,
  ConnectionError,
  type ConnectionState,
  InvalidArgumentError,
  NoHandlerError,
} from '@unipc/core'
import { aborted, type CaseContext, deferred, endless, rejectionOf } from '../context.js'
import type { Registrar } from '../registrar.js'

/** Opens an endless stream, closes the client's or the server's bus, and returns the stream's error. */
async function streamErrorAfterClosing(t: CaseContext, which: 'client' | 'server'): Promise<Error> {
  const method = t.name('forever')
  const server = await t.bus()
  await server.requests.serve(method, endless)
  const client = await t.bus()
  const rec = t.record(client.requests.stream(method))
  await rec.count(2)
  await (which === 'client' ? client : server).close()
  return rejectionOf(rec.until(() => false, 'the stream error'))
}

/** Registers the lifecycle cases. */
export function lifecycleCases(r: Registrar): void {
  const { expect } = r
  r.group('lifecycle', () => {
    r.test('state$ reports connected, then closed after close()', async (t) => {
      const bus = await t.bus()
      const rec = t.record(bus.state$)
      await rec.count(1)
      expect(rec.values[0]).toBe('connected')
      await bus.close()
      await rec.complete()
      expect(rec.values).toEqual<ConnectionState[]>(['connected', 'closed'])
      expect(bus.state).toBe('closed')
    })

    r.test('close() rejects a pending request with ClosedError', async (t) => {
      const method = t.name('hang')
      const server = await t.bus()
      const started = deferred()
      await server.requests.serve(method, () => {
        started.resolve()
        return new Promise(() => {})
      })
      const client = await t.bus()
      const pending = t.pending(client.requests.call(method))
      await t.within(started.promise, 'the handler starting')
      await client.close()
      const err = await rejectionOf(pending)
      expect(err).toBeInstanceOf(ClosedError)
      expect(err).toMatchObject({ code: 'UNIPC_CLOSED' })
    })

    r.test('close() rejects a pending command with ClosedError', async (t) => {
      const sender = await t.bus()
      const pending = t.pending(sender.commands.send(t.name('nobody'), 'wait'))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await sender.close()
      expect(await rejectionOf(pending)).toBeInstanceOf(ClosedError)
    })

    r.test('close() ends an open request stream with ClosedError', async (t) => {
      expect(await streamErrorAfterClosing(t, 'client')).toBeInstanceOf(ClosedError)
    })

    r.test('requests and commands after close() fail with ClosedError', async (t) => {
      const bus = await t.bus({ component: t.name('cmp') })
      await bus.close()
      await expect(bus.requests.call(t.name('m'))).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.commands.send(t.name('c'), 1)).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.requests.serve(t.name('m'), () => 1)).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.commands.handle(() => 1)).rejects.toBeInstanceOf(ClosedError)
    })

    r.test('settings, status and events after close() fail with ClosedError', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus({ component })
      await bus.close()
      await expect(bus.settings.set(component, 'k', 1)).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.settings.get(component, 'k')).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.status.update({ k: 1 })).rejects.toBeInstanceOf(ClosedError)
      await expect(bus.events.publish(`${component}.x`, 1)).rejects.toBeInstanceOf(ClosedError)
      expect(() => bus.events.subscribe(`${component}.x`)).toThrow(ClosedError)
    })

    r.test('close() is idempotent: every call resolves', async (t) => {
      const bus = await t.bus()
      const first = bus.close()
      const second = bus.close()
      await Promise.all([first, second])
      await bus.close()
      expect(bus.closed).toBe(true)
    })

    r.test('await using closes the bus through Symbol.asyncDispose', async (t) => {
      let outer: Awaited<ReturnType<typeof t.bus>> | undefined
      {
        await using bus = await t.bus()
        outer = bus
        expect(bus.state).toBe('connected')
      }
      expect(outer.state).toBe('closed')
      await outer[Symbol.asyncDispose]()
    })

    r.test('closing a bus completes its event subscriptions and watches', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus()
      const sub = bus.events.subscribe(`${component}.x`)
      const events = t.record(sub)
      const watch = t.record(bus.settings.watch(component, 'k'))
      await sub.ready
      await watch.count(1)
      await bus.close()
      await events.complete()
      await watch.complete()
    })

    r.test('a handler still running when its bus closes sees ctx.signal abort', async (t) => {
      const method = t.name('long')
      const server = await t.bus({ drainTimeout: 2_000 })
      const started = deferred()
      const stopped = deferred()
      await server.requests.serve(method, async (_d, ctx) => {
        started.resolve()
        await aborted(ctx.signal)
        stopped.resolve()
        return 'stopped'
      })
      const client = await t.bus()
      void client.requests.call(method).catch(() => {})
      await t.within(started.promise, 'the handler starting')
      await server.close()
      await t.within(stopped.promise, "the handler's signal aborting")
    })

    r.test(
      'a call whose server bus closes before answering fails at once with ConnectionError',
      async (t) => {
        const method = t.name('stuck')
        const server = await t.bus({ drainTimeout: 100 })
        const started = deferred()
        await server.requests.serve(method, () => {
          started.resolve()
          return new Promise(() => {}) // ignores its signal: only the drain timeout ends it
        })
        const client = await t.bus()
        const pending = t.pending(client.requests.call(method, null, { timeout: 120_000 }))
        await t.within(started.promise, 'the handler starting')
        await server.close()
        const err = await t.within(rejectionOf(pending), 'the call failing')
        expect(err).toBeInstanceOf(ConnectionError)
      },
    )

    r.test(
      'a handler that stops on its signal when its bus closes fails the call with ConnectionError',
      async (t) => {
        const method = t.name('polite')
        const server = await t.bus()
        const started = deferred()
        await server.requests.serve(method, async (_d, ctx) => {
          started.resolve()
          await aborted(ctx.signal)
          throw ctx.signal.reason
        })
        const client = await t.bus()
        const pending = t.pending(client.requests.call(method, null, { timeout: 120_000 }))
        await t.within(started.promise, 'the handler starting')
        await server.close()
        expect(await t.within(rejectionOf(pending), 'the call failing')).toBeInstanceOf(ConnectionError)
      },
    )

    r.test('a stream whose server bus closes ends with ConnectionError', async (t) => {
      expect(await streamErrorAfterClosing(t, 'server')).toBeInstanceOf(ConnectionError)
    })

    r.test('a closed server bus no longer receives calls', async (t) => {
      const method = t.name('gone')
      const server = await t.bus()
      await server.requests.serve(method, () => 'alive')
      const client = await t.bus()
      expect(await client.requests.call(method)).toBe('alive')
      await server.close()
      await expect(client.requests.call(method, null, { timeout: 5_000 })).rejects.toBeInstanceOf(
        NoHandlerError,
      )
    })

    r.test('the transport declares its features and limits', async (t) => {
      const bus = await t.bus()
      const { supports, limits } = bus.transport
      for (const flag of ['redelivery', 'persistence', 'durableEvents', 'crossProcess'] as const)
        expect(typeof supports[flag], flag).toBe('boolean')
      expect(limits.maxPayload).toBeGreaterThanOrEqual(r.knobs.largePayload + 1024)
      expect(typeof bus.address).toBe('string')
      expect(bus.address.length).toBeGreaterThan(0)
    })

    r.test('connecting with an invalid component name fails with InvalidArgumentError', async (t) => {
      expect(await rejectionOf(t.bus({ component: 'has space' }))).toBeInstanceOf(InvalidArgumentError)
      expect(await rejectionOf(t.bus({ component: 'a/b' }))).toBeInstanceOf(InvalidArgumentError)
    })

    r.test('a bus without a component cannot handle commands: InvalidArgumentError', async (t) => {
      const bus = await t.bus()
      expect(await rejectionOf(bus.commands.handle(() => 1))).toBeInstanceOf(InvalidArgumentError)
    })
  })
}
