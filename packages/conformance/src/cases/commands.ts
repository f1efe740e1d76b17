/**
 * Commands: one worker per command, FIFO per queue, replies only to the sender, waiting for a
 * worker, fire-and-forget, timeouts, abort and redelivery.
 * @module
 */
import { AbortError, type Bus, type CommandContext, RemoteError, TimeoutError } from '@unipc/core'
import { aborted, type CaseContext, deferred, rejectionOf, sleep } from '../context.js'
import type { Registrar } from '../registrar.js'

/** A thrown error with a code and data, as application handlers throw them. */
class OrderRejected extends Error {
  readonly code = 'E_ORDER_REJECTED'
  constructor(
    message: string,
    readonly data: unknown,
  ) {
    super(message)
    this.name = 'OrderRejected'
  }
}

/**
 * Sends a command to `component`, closes worker bus `a` once it holds it, starts another worker and
 * resolves with that worker's reply (the command and whether it came redelivered).
 */
async function closeWhileHolding(
  t: CaseContext,
  a: Bus,
  component: string,
  started: Promise<void>,
): Promise<unknown> {
  const sender = await t.bus()
  const reply = t.pending(sender.commands.send(component, 'job'))
  await t.within(started, 'worker a taking the command')
  await a.close()
  const b = await t.bus({ component })
  await b.commands.handle((cmd: string, ctx) => ({ cmd, redelivered: ctx.redelivered }))
  return t.within(reply, 'the redelivered reply')
}

/** Registers the commands cases. */
export function commandCases(r: Registrar): void {
  const { expect } = r
  r.group('commands', () => {
    r.test('a command reaches a worker of its component and the reply returns to the sender', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      const sender = await t.bus()
      await worker.commands.handle((cmd: { n: number }) => ({ doubled: cmd.n * 2 }))
      expect(await sender.commands.send(component, { n: 21 })).toEqual({ doubled: 42 })
    })

    r.test('commands from one sender are handled in the order they were sent (FIFO)', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      const sender = await t.bus()
      const seen: number[] = []
      await worker.commands.handle((n: number) => {
        seen.push(n)
        return n
      })
      const ids = Array.from({ length: 50 }, (_, i) => i)
      await Promise.all(ids.map((n) => sender.commands.send(component, n)))
      expect(seen).toEqual(ids)
    })

    r.test('commands queued before any worker exists are handled in FIFO order', async (t) => {
      const component = t.name('cmp')
      const sender = await t.bus()
      const ids = Array.from({ length: 20 }, (_, i) => i)
      const replies = Promise.all(ids.map((n) => sender.commands.send(component, n)))
      await sleep(50)
      const worker = await t.bus({ component })
      const seen: number[] = []
      await worker.commands.handle((n: number) => {
        seen.push(n)
        return n
      })
      expect(await t.within(replies, 'the replies')).toEqual(ids)
      expect(seen).toEqual(ids)
    })

    r.test('each command is handled by exactly one of several competing workers', async (t) => {
      const component = t.name('cmp')
      const handledBy = new Map<number, number[]>()
      for (let w = 0; w < 3; w++) {
        const worker = await t.bus({ component })
        await worker.commands.handle(async (n: number) => {
          handledBy.set(n, [...(handledBy.get(n) ?? []), w])
          await sleep(1)
          return w
        })
      }
      const sender = await t.bus()
      const ids = Array.from({ length: 60 }, (_, i) => i)
      const replies = await Promise.all(ids.map((n) => sender.commands.send<number>(component, n)))
      expect([...handledBy.keys()].sort((a, b) => a - b)).toEqual(ids)
      for (const [n, workers] of handledBy) {
        expect(workers, `command ${n}`).toHaveLength(1)
        expect(replies[n]).toBe(workers[0])
      }
    })

    r.test('replies are routed only to their sender when several senders send at once', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      await worker.commands.handle(async (cmd: { from: number; n: number }) => {
        await sleep(cmd.n % 3)
        return cmd
      })
      const senders = await Promise.all([0, 1, 2].map(() => t.bus()))
      const results = await Promise.all(
        senders.map((s, from) =>
          Promise.all(Array.from({ length: 20 }, (_, n) => s.commands.send(component, { from, n }))),
        ),
      )
      results.forEach((replies, from) => {
        expect(replies).toEqual(Array.from({ length: 20 }, (_, n) => ({ from, n })))
      })
    })

    r.test('a command waits in the queue until a worker starts', async (t) => {
      const component = t.name('cmp')
      const sender = await t.bus()
      const reply = t.pending(sender.commands.send(component, 'queued-first'))
      await sleep(100)
      const worker = await t.bus({ component })
      await worker.commands.handle((cmd: string) => `handled ${cmd}`)
      expect(await t.within(reply, 'the reply')).toBe('handled queued-first')
    })

    r.test('a fire-and-forget command resolves without a reply and still reaches a worker', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      const got = deferred<unknown>()
      await worker.commands.handle((cmd) => {
        got.resolve(cmd)
        return 'ignored'
      })
      const sender = await t.bus()
      expect(await sender.commands.send(component, { fire: 'forget' }, { noReply: true })).toBeUndefined()
      expect(await t.within(got.promise, 'the fire-and-forget command')).toEqual({ fire: 'forget' })
    })

    r.test(
      'an error thrown by a worker arrives as RemoteError with name, message, code and data',
      async (t) => {
        const component = t.name('cmp')
        const worker = await t.bus({ component })
        await worker.commands.handle(() => {
          throw new OrderRejected('order 7 is closed', { order: 7, reasons: ['closed'] })
        })
        const sender = await t.bus()
        const err = await rejectionOf(sender.commands.send(component, 'order'))
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({
          name: 'OrderRejected',
          message: 'order 7 is closed',
          code: 'E_ORDER_REJECTED',
          data: { order: 7, reasons: ['closed'] },
        })
      },
    )

    r.test('a worker keeps taking commands after its handler threw', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      await worker.commands.handle((n: number) => {
        if (n === 1) throw new Error('one is bad')
        return n
      })
      const sender = await t.bus()
      await expect(sender.commands.send(component, 1)).rejects.toBeInstanceOf(RemoteError)
      expect(await sender.commands.send(component, 2)).toBe(2)
    })

    r.test('send fails with TimeoutError when no worker replies in time', async (t) => {
      const sender = await t.bus()
      const err = await rejectionOf(sender.commands.send(t.name('nobody'), 'hello', { timeout: 150 }))
      expect(err).toBeInstanceOf(TimeoutError)
      expect(err).toMatchObject({ code: 'UNIPC_TIMEOUT' })
    })

    r.test(
      'a command whose sender timed out is dropped, not run, by a worker that starts later',
      async (t) => {
        const component = t.name('cmp')
        const sender = await t.bus()
        await expect(sender.commands.send(component, 'stale', { timeout: 100 })).rejects.toBeInstanceOf(
          TimeoutError,
        )
        await sleep(20) // timers may fire a millisecond before the deadline's clock reading
        const worker = await t.bus({ component })
        const seen: string[] = []
        await worker.commands.handle((cmd: string) => {
          seen.push(cmd)
          return cmd
        })
        expect(await sender.commands.send(component, 'fresh')).toBe('fresh')
        expect(seen).toEqual(['fresh'])
      },
    )

    r.test('send with an already aborted signal fails with AbortError and queues nothing', async (t) => {
      const component = t.name('cmp')
      const sender = await t.bus()
      const err = await rejectionOf(sender.commands.send(component, 'never', { signal: AbortSignal.abort() }))
      expect(err).toBeInstanceOf(AbortError)
      const worker = await t.bus({ component })
      const seen: string[] = []
      await worker.commands.handle((cmd: string) => {
        seen.push(cmd)
        return cmd
      })
      expect(await sender.commands.send(component, 'after')).toBe('after')
      expect(seen).toEqual(['after'])
    })

    r.test('aborting a sent command makes send fail with AbortError', async (t) => {
      const sender = await t.bus()
      const controller = new AbortController()
      const pending = t.pending(sender.commands.send(t.name('nobody'), 'wait', { signal: controller.signal }))
      await sleep(20)
      controller.abort()
      expect(await rejectionOf(pending)).toBeInstanceOf(AbortError)
    })

    r.test('the handler context names the sender and says the command is not redelivered', async (t) => {
      const component = t.name('cmp')
      const senderName = t.name('snd')
      const worker = await t.bus({ component })
      const ctx = deferred<CommandContext>()
      await worker.commands.handle((_cmd, c) => {
        ctx.resolve(c)
        return null
      })
      const sender = await t.bus({ component: senderName })
      await sender.commands.send(component, 'who', { timeout: 5_000 })
      const c = await ctx.promise
      expect(c.sender).toBe(senderName)
      expect(c.redelivered).toBe(false)
      expect(c.deadline).toBeGreaterThan(Date.now() - 10_000)
      expect(c.signal.aborted).toBe(false)
    })

    r.test('a worker with concurrency 3 runs three commands at once', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      let running = 0
      let peak = 0
      const allIn = deferred()
      await worker.commands.handle(
        async () => {
          running++
          peak = Math.max(peak, running)
          if (running === 3) allIn.resolve()
          await t.within(allIn.promise, 'three commands running at once')
          running--
          return peak
        },
        { concurrency: 3 },
      )
      const sender = await t.bus()
      await Promise.all([1, 2, 3].map((n) => sender.commands.send(component, n)))
      expect(peak).toBe(3)
    })

    r.test('a worker whose handle was closed takes no more commands', async (t) => {
      const component = t.name('cmp')
      const a = await t.bus({ component })
      const b = await t.bus({ component })
      const handleA = await a.commands.handle(() => 'a')
      await b.commands.handle(() => 'b')
      await handleA.close()
      const sender = await t.bus()
      const replies = await Promise.all([1, 2, 3, 4].map((n) => sender.commands.send(component, n)))
      expect(replies).toEqual(['b', 'b', 'b', 'b'])
    })

    r.test(
      'a worker that closes while running a command finishes it, and nobody runs it again',
      async (t) => {
        const component = t.name('cmp')
        const a = await t.bus({ component })
        const started = deferred()
        await a.commands.handle(async (cmd: string) => {
          started.resolve()
          await sleep(150)
          return `a finished ${cmd}`
        })
        const sender = await t.bus()
        const reply = t.pending(sender.commands.send(component, 'job'))
        await t.within(started.promise, 'worker a starting the command')
        const b = await t.bus({ component })
        const seenByB: string[] = []
        await b.commands.handle((cmd: string) => {
          seenByB.push(cmd)
          return `b ran ${cmd}`
        })
        await a.close()
        expect(await reply).toBe('a finished job')
        expect(await sender.commands.send(component, 'next')).toBe('b ran next')
        expect(seenByB).toEqual(['next'])
      },
    )

    r.test(
      'a command interrupted by its worker bus closing is redelivered to another worker, not failed',
      async (t) => {
        const component = t.name('cmp')
        const a = await t.bus({ component })
        const started = deferred()
        await a.commands.handle(async (_cmd, ctx) => {
          started.resolve()
          await aborted(ctx.signal)
          throw ctx.signal.reason
        })
        expect(await closeWhileHolding(t, a, component, started.promise)).toEqual({
          cmd: 'job',
          redelivered: true,
        })
      },
      { requires: ['redelivery'] },
    )

    r.test(
      'a command held by a worker whose bus closed without finishing is redelivered to another worker',
      async (t) => {
        const component = t.name('cmp')
        const a = await t.bus({ component, drainTimeout: 50 })
        const started = deferred()
        await a.commands.handle(() => {
          started.resolve()
          return new Promise(() => {}) // never finishes: this worker "hangs"
        })
        expect(await closeWhileHolding(t, a, component, started.promise)).toEqual({
          cmd: 'job',
          redelivered: true,
        })
      },
      { requires: ['redelivery'] },
    )

    r.test('a sub-queue is separate from the component main queue', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      await worker.commands.handle((c: string) => `main ${c}`)
      await worker.commands.handle((c: string) => `high ${c}`, { queue: 'high' })
      const sender = await t.bus()
      expect(await sender.commands.send(component, 'a')).toBe('main a')
      expect(await sender.commands.send(component, 'b', { queue: 'high' })).toBe('high b')
    })

    r.test('a worker with the default concurrency runs one command at a time', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      let running = 0
      let peak = 0
      await worker.commands.handle(async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(5)
        running--
      })
      const sender = await t.bus()
      await Promise.all(Array.from({ length: 10 }, (_, i) => sender.commands.send(component, i)))
      expect(peak).toBe(1)
    })

    r.test('a bus can send a command to its own component and handle it', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus({ component })
      await bus.commands.handle((n: number) => n + 1)
      expect(await bus.commands.send(component, 41)).toBe(42)
    })

    r.test('a burst of 500 fire-and-forget commands is handled exactly once each, in order', async (t) => {
      const component = t.name('cmp')
      const worker = await t.bus({ component })
      const seen: number[] = []
      await worker.commands.handle((n: number) => {
        seen.push(n)
      })
      const sender = await t.bus()
      const ns = Array.from({ length: 500 }, (_, i) => i)
      await Promise.all(ns.map((n) => sender.commands.send(component, n, { noReply: true })))
      await t.until(() => seen.length >= ns.length, 'all commands handled')
      expect(seen).toEqual(ns)
    })
  })
}
