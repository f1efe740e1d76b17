/**
 * Requests: results, remote errors, unknown methods, timeouts, deadlines and cancellation reaching
 * the handler, load balancing and concurrency.
 * @module
 */
import {
  AbortError,
  InvalidArgumentError,
  NoHandlerError,
  RemoteError,
  type RequestContext,
  TimeoutError,
} from '@unipc/core'
import { aborted, deferred, rejectionOf, sleep } from '../context.js'
import type { Registrar } from '../registrar.js'

/** An application error with a code and structured data. */
class StudentNotFound extends Error {
  readonly code = 'E_NOT_FOUND'
  constructor(readonly data: { id: string }) {
    super(`student ${data.id} not found`)
    this.name = 'StudentNotFound'
  }
}

/** Registers the request/reply cases. */
export function requestCases(r: Registrar): void {
  const { expect } = r
  r.group('requests', () => {
    r.test('a call resolves with the value the server returned', async (t) => {
      const method = t.name('add')
      const server = await t.bus()
      await server.requests.serve(method, (d: { a: number; b: number }) => d.a + d.b)
      const client = await t.bus()
      expect(await client.requests.call(method, { a: 2, b: 40 })).toBe(42)
    })

    r.test('a call without data reaches the handler as undefined and may resolve undefined', async (t) => {
      const method = t.name('noop')
      const server = await t.bus()
      const got = deferred<unknown>()
      await server.requests.serve(method, (d) => {
        got.resolve(d)
        return undefined
      })
      const client = await t.bus()
      expect(await client.requests.call(method)).toBeUndefined()
      expect(await got.promise).toBeUndefined()
    })

    r.test('a call to a method nobody serves fails with NoHandlerError', async (t) => {
      const client = await t.bus()
      const method = t.name('missing')
      const err = await rejectionOf(client.requests.call(method, 1, { timeout: 5_000 }))
      expect(err).toBeInstanceOf(NoHandlerError)
      expect(err).toMatchObject({ code: 'UNIPC_NO_HANDLER' })
      expect(err.message).toContain(method)
    })

    r.test(
      'an error thrown by the server arrives as RemoteError with name, message, code and data',
      async (t) => {
        const method = t.name('find')
        const server = await t.bus()
        await server.requests.serve(method, (id: string) => {
          throw new StudentNotFound({ id })
        })
        const client = await t.bus()
        const err = await rejectionOf(client.requests.call(method, 's-17'))
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({
          name: 'StudentNotFound',
          message: 'student s-17 not found',
          code: 'E_NOT_FOUND',
          data: { id: 's-17' },
        })
      },
    )

    r.test('an async handler that rejects produces RemoteError with the rejection message', async (t) => {
      const method = t.name('reject')
      const server = await t.bus()
      await server.requests.serve(method, async () => {
        await sleep(1)
        throw new TypeError('bad input')
      })
      const client = await t.bus()
      const err = await rejectionOf(client.requests.call(method))
      expect(err).toBeInstanceOf(RemoteError)
      expect(err).toMatchObject({ name: 'TypeError', message: 'bad input', code: 'UNIPC_REMOTE' })
    })

    r.test('a thrown non-Error value arrives as RemoteError carrying its text', async (t) => {
      const method = t.name('throwstr')
      const server = await t.bus()
      await server.requests.serve(method, () => {
        throw 'plain string failure'
      })
      const client = await t.bus()
      const err = await rejectionOf(client.requests.call(method))
      expect(err).toBeInstanceOf(RemoteError)
      expect(err.message).toBe('plain string failure')
    })

    r.test('a unipc error thrown by a handler keeps its stable code', async (t) => {
      const method = t.name('invalid')
      const server = await t.bus()
      await server.requests.serve(method, () => {
        throw new InvalidArgumentError('age must be positive')
      })
      const client = await t.bus()
      const err = await rejectionOf(client.requests.call(method))
      expect(err).toMatchObject({ code: 'UNIPC_INVALID_ARGUMENT', message: 'age must be positive' })
    })

    r.test(
      'an error whose data holds a huge BigInt or a cycle still reaches the caller as RemoteError',
      async (t) => {
        const method = t.name('odd')
        const server = await t.bus()
        await server.requests.serve(method, () => {
          const data: Record<string, unknown> = { big: 2n ** 70n, label: 'kept' }
          data.self = data
          throw Object.assign(new Error('odd data'), { code: 'E_ODD', data })
        })
        const client = await t.bus()
        const err = await rejectionOf(client.requests.call(method, null, { timeout: r.knobs.waitTimeout }))
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ message: 'odd data', code: 'E_ODD', data: { label: 'kept' } })
      },
    )

    r.test(
      'a result the codec cannot encode fails the call with a RemoteError instead of hanging',
      async (t) => {
        const method = t.name('cyclic')
        const server = await t.bus()
        await server.requests.serve(method, () => {
          const o: Record<string, unknown> = {}
          o.self = o
          return o
        })
        const client = await t.bus()
        const err = await rejectionOf(client.requests.call(method, null, { timeout: r.knobs.waitTimeout }))
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ code: 'UNIPC_CODEC' })
      },
    )

    r.test('a server keeps serving after its handler threw', async (t) => {
      const method = t.name('flaky')
      const server = await t.bus()
      await server.requests.serve(method, (n: number) => {
        if (n < 0) throw new RangeError('negative')
        return n
      })
      const client = await t.bus()
      await expect(client.requests.call(method, -1)).rejects.toBeInstanceOf(RemoteError)
      expect(await client.requests.call(method, 5)).toBe(5)
    })

    r.test('a call fails with TimeoutError when the server is slower than the timeout', async (t) => {
      const method = t.name('slow')
      const server = await t.bus()
      await server.requests.serve(method, async (_d, ctx) => {
        await aborted(ctx.signal)
        return 'late'
      })
      const client = await t.bus()
      const err = await rejectionOf(client.requests.call(method, null, { timeout: 150 }))
      expect(err).toBeInstanceOf(TimeoutError)
    })

    r.test("the caller's deadline aborts the handler's ctx.signal", async (t) => {
      const method = t.name('deadline')
      const server = await t.bus()
      const aborted = deferred<unknown>()
      const ctxSeen = deferred<RequestContext>()
      await server.requests.serve(method, (_d, ctx) => {
        ctxSeen.resolve(ctx)
        ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason), { once: true })
        return new Promise(() => {})
      })
      const client = await t.bus()
      await expect(client.requests.call(method, null, { timeout: 200 })).rejects.toBeInstanceOf(TimeoutError)
      expect((await ctxSeen.promise).deadline).toBeGreaterThan(0)
      expect(await t.within(aborted.promise, "the handler's signal aborting")).toBeInstanceOf(TimeoutError)
    })

    r.test(
      'a call with an already aborted signal fails with AbortError and never runs the handler',
      async (t) => {
        const method = t.name('never')
        const server = await t.bus()
        let runs = 0
        await server.requests.serve(method, () => ++runs)
        const client = await t.bus()
        const err = await rejectionOf(client.requests.call(method, 1, { signal: AbortSignal.abort() }))
        expect(err).toBeInstanceOf(AbortError)
        expect(await client.requests.call(method, 2)).toBe(1)
      },
    )

    r.test(
      "aborting a call in flight fails it with AbortError and aborts the handler's signal",
      async (t) => {
        const method = t.name('cancel')
        const server = await t.bus()
        const started = deferred()
        const aborted = deferred()
        await server.requests.serve(method, (_d, ctx) => {
          ctx.signal.addEventListener('abort', () => aborted.resolve(), { once: true })
          started.resolve()
          return new Promise(() => {})
        })
        const client = await t.bus()
        const controller = new AbortController()
        const pending = t.pending(client.requests.call(method, 1, { signal: controller.signal }))
        await t.within(started.promise, 'the handler starting')
        controller.abort()
        expect(await rejectionOf(pending)).toBeInstanceOf(AbortError)
        await t.within(aborted.promise, "the handler's signal aborting")
      },
    )

    r.test('the handler context names the method and the caller component', async (t) => {
      const method = t.name('ctx')
      const caller = t.name('caller')
      const server = await t.bus()
      await server.requests.serve(method, (_d, ctx) => ({ method: ctx.method, sender: ctx.sender }))
      const client = await t.bus({ component: caller })
      expect(await client.requests.call(method)).toEqual({ method, sender: caller })
    })

    r.test('200 concurrent calls all resolve with their own results', async (t) => {
      const method = t.name('square')
      const server = await t.bus()
      await server.requests.serve(method, async (n: number) => {
        await sleep(n % 5)
        return n * n
      })
      const client = await t.bus()
      const ns = Array.from({ length: r.knobs.concurrentCalls }, (_, i) => i)
      const results = await Promise.all(ns.map((n) => client.requests.call(method, n)))
      expect(results).toEqual(ns.map((n) => n * n))
    })

    r.test('replies go to the right caller when several callers call at once', async (t) => {
      const method = t.name('echo')
      const server = await t.bus()
      await server.requests.serve(method, async (d: { c: number; n: number }) => {
        await sleep(d.n % 3)
        return d
      })
      const clients = await Promise.all([0, 1, 2].map(() => t.bus()))
      const results = await Promise.all(
        clients.map((c, ci) =>
          Promise.all(Array.from({ length: 30 }, (_, n) => c.requests.call(method, { c: ci, n }))),
        ),
      )
      results.forEach((res, ci) => {
        expect(res).toEqual(Array.from({ length: 30 }, (_, n) => ({ c: ci, n })))
      })
    })

    r.test('two servers of one method share the load, each call handled by exactly one', async (t) => {
      const method = t.name('work')
      const counts = [0, 0]
      for (const i of [0, 1]) {
        const server = await t.bus()
        await server.requests.serve(method, async () => {
          counts[i]!++
          await sleep(5)
          return i
        })
      }
      const client = await t.bus()
      const results = await Promise.all(
        Array.from({ length: 40 }, () => client.requests.call<number>(method)),
      )
      expect(counts[0]! + counts[1]!).toBe(40)
      expect(counts[0]).toBeGreaterThan(0)
      expect(counts[1]).toBeGreaterThan(0)
      expect(results.filter((x) => x === 0)).toHaveLength(counts[0]!)
    })

    r.test('after its only server stops serving, a method fails with NoHandlerError', async (t) => {
      const method = t.name('gone')
      const server = await t.bus()
      const handle = await server.requests.serve(method, () => 'here')
      const client = await t.bus()
      expect(await client.requests.call(method)).toBe('here')
      await handle.close()
      await expect(client.requests.call(method, null, { timeout: 5_000 })).rejects.toBeInstanceOf(
        NoHandlerError,
      )
    })

    r.test('after one of two servers closes its bus, every call goes to the other', async (t) => {
      const method = t.name('failover')
      const a = await t.bus()
      const b = await t.bus()
      await a.requests.serve(method, () => 'a')
      await b.requests.serve(method, () => 'b')
      await a.close()
      const client = await t.bus()
      const results = await Promise.all(Array.from({ length: 6 }, () => client.requests.call(method)))
      expect(results).toEqual(['b', 'b', 'b', 'b', 'b', 'b'])
    })

    r.test('a bus can call a method it serves itself', async (t) => {
      const method = t.name('self')
      const bus = await t.bus()
      await bus.requests.serve(method, (s: string) => s.length)
      expect(await bus.requests.call(method, 'four')).toBe(4)
    })

    r.test('a call with timeout 0 waits for a slow reply and its handler has no deadline', async (t) => {
      const method = t.name('patient')
      const server = await t.bus()
      await server.requests.serve(method, async (_d, ctx) => {
        await sleep(300)
        return ctx.deadline ?? 'none'
      })
      const client = await t.bus({ timeout: 100 })
      expect(await client.requests.call(method, null, { timeout: 0 })).toBe('none')
    })
  })
}
