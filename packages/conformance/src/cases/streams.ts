/**
 * Request streams: completion, errors mid-stream, cancellation reaching the server, `for await`,
 * and credit-based flow control.
 * @module
 */
import { AbortError, NoHandlerError, RemoteError, type RequestContext, TimeoutError } from '@unipc/core'
import { concat, from, throwError } from 'rxjs'
import { deferred, rejectionOf, sleep } from '../context.js'
import type { Registrar } from '../registrar.js'

/** An endless stream that signals when the server side sees its cancellation. */
async function* ticks(ctx: RequestContext, cancelled: () => void): AsyncGenerator<number> {
  ctx.signal.addEventListener('abort', cancelled, { once: true })
  for (let i = 0; ; i++) {
    yield i
    await sleep(5)
  }
}

/** Registers the streaming cases. */
export function streamCases(r: Registrar): void {
  const { expect } = r
  r.group('request streams', () => {
    r.test('a stream emits every item the server yields, then completes', async (t) => {
      const method = t.name('count')
      const server = await t.bus()
      await server.requests.serve(method, async function* (n: number) {
        for (let i = 0; i < n; i++) yield i
      })
      const client = await t.bus()
      const rec = t.record(client.requests.stream<number>(method, 5))
      await rec.complete()
      expect(rec.values).toEqual([0, 1, 2, 3, 4])
    })

    r.test('a stream served from an rxjs Observable arrives in full with for await', async (t) => {
      const method = t.name('obs')
      const server = await t.bus()
      await server.requests.serve(method, () => from(['a', 'b', 'c']))
      const client = await t.bus()
      const got: string[] = []
      for await (const item of client.requests.stream<string>(method)) got.push(item)
      expect(got).toEqual(['a', 'b', 'c'])
    })

    r.test('a stream whose server returns no items completes empty', async (t) => {
      const method = t.name('empty')
      const server = await t.bus()
      await server.requests.serve(method, () => [])
      const client = await t.bus()
      const rec = t.record(client.requests.stream(method))
      await rec.complete()
      expect(rec.values).toEqual([])
    })

    r.test('an error thrown mid-stream arrives as RemoteError after the items before it', async (t) => {
      const method = t.name('broken')
      const server = await t.bus()
      await server.requests.serve(method, async function* () {
        yield 1
        yield 2
        throw Object.assign(new Error('disk failed'), { code: 'E_DISK' })
      })
      const client = await t.bus()
      const rec = t.record(client.requests.stream<number>(method))
      const err = await rejectionOf(rec.until(() => false, 'the stream error'))
      expect(rec.values).toEqual([1, 2])
      expect(err).toBeInstanceOf(RemoteError)
      expect(err).toMatchObject({ message: 'disk failed', code: 'E_DISK' })
    })

    r.test('unsubscribing from a stream aborts the server handler signal', async (t) => {
      const method = t.name('ticks')
      const server = await t.bus()
      const cancelled = deferred()
      await server.requests.serve(method, (_d, ctx) => ticks(ctx, () => cancelled.resolve()))
      const client = await t.bus()
      const rec = t.record(client.requests.stream<number>(method))
      await rec.count(3)
      rec.unsubscribe()
      await t.within(cancelled.promise, 'the server seeing the cancellation')
    })

    r.test('breaking out of for await cancels the stream on the server', async (t) => {
      const method = t.name('ticks')
      const server = await t.bus()
      const cancelled = deferred()
      await server.requests.serve(method, (_d, ctx) => ticks(ctx, () => cancelled.resolve()))
      const client = await t.bus()
      const got: number[] = []
      for await (const n of client.requests.stream<number>(method)) {
        got.push(n)
        if (got.length === 3) break
      }
      expect(got).toEqual([0, 1, 2])
      await t.within(cancelled.promise, 'the server seeing the cancellation')
    })

    r.test('aborting a stream signal ends it with AbortError and cancels the server', async (t) => {
      const method = t.name('ticks')
      const server = await t.bus()
      const cancelled = deferred()
      await server.requests.serve(method, (_d, ctx) => ticks(ctx, () => cancelled.resolve()))
      const client = await t.bus()
      const controller = new AbortController()
      const rec = t.record(client.requests.stream<number>(method, undefined, { signal: controller.signal }))
      await rec.count(2)
      controller.abort()
      expect(await rejectionOf(rec.until(() => false, 'the stream error'))).toBeInstanceOf(AbortError)
      await t.within(cancelled.promise, 'the server seeing the cancellation')
    })

    r.test('credit keeps a fast producer at most one window ahead of a slow consumer', async (t) => {
      const method = t.name('firehose')
      const server = await t.bus()
      const window = 4
      let produced = 0
      await server.requests.serve(method, async function* () {
        for (;;) {
          produced++
          yield produced
        }
      })
      const client = await t.bus()
      let pulled = 0
      for await (const _ of client.requests.stream<number>(method, undefined, { window })) {
        pulled++
        await sleep(pulled % 5 === 0 ? 100 : 1)
        // The producer may hold one item while waiting for credit.
        expect(produced).toBeLessThanOrEqual(pulled + window + 1)
        if (pulled === 20) break
      }
      expect(pulled).toBe(20)
    })

    r.test('byte credit keeps a producer of large items at most one byte window ahead', async (t) => {
      const method = t.name('bytes')
      const server = await t.bus()
      // 1 KiB items (1027 body bytes with their msgpack header): 3 fit in 4 KiB, 4 do not.
      const windowBytes = 4096
      let produced = 0
      await server.requests.serve(method, async function* () {
        for (;;) {
          produced++
          yield Buffer.alloc(1024, produced & 0xff)
        }
      })
      const client = await t.bus()
      let pulled = 0
      let most = 0
      const stream = client.requests.stream<Uint8Array>(method, undefined, { window: 1000, windowBytes })
      for await (const item of stream) {
        pulled++
        expect(item[0]).toBe(pulled & 0xff)
        // A slow consumer: the producer must stop while it sleeps, not run the item window ahead.
        await sleep(pulled % 10 === 0 ? 100 : 2)
        most = Math.max(most, produced - pulled)
        // At most 3 items (the byte window) sent ahead, plus one the server may hold for credit.
        expect(produced).toBeLessThanOrEqual(pulled + 3 + 1)
        if (pulled === 40) break
      }
      expect(pulled).toBe(40)
      // It did run ahead within the window (credit flowed, not one item at a time).
      expect(most).toBeGreaterThanOrEqual(2)
    })

    r.test('an item larger than the byte window still flows, one at a time', async (t) => {
      const method = t.name('oversize')
      const server = await t.bus()
      let produced = 0
      await server.requests.serve(method, async function* () {
        for (let i = 0; i < 6; i++) {
          produced++
          yield Buffer.alloc(20_000, i)
        }
      })
      const client = await t.bus()
      const got: number[] = []
      for await (const item of client.requests.stream<Uint8Array>(method, undefined, { windowBytes: 1000 })) {
        got.push(item[0] as number)
        expect(item.length).toBe(20_000)
        await sleep(20)
        // The item in hand, and at most the next one (sent as soon as this one was taken).
        expect(produced).toBeLessThanOrEqual(got.length + 1)
      }
      expect(got).toEqual([0, 1, 2, 3, 4, 5])
    })

    r.test('an item window alone (no byte credit) still bounds a fast producer', async (t) => {
      const method = t.name('items')
      const server = await t.bus()
      let produced = 0
      await server.requests.serve(method, async function* () {
        for (;;) {
          produced++
          yield Buffer.alloc(2048)
        }
      })
      const client = await t.bus()
      let pulled = 0
      for await (const _ of client.requests.stream(method, undefined, { window: 6, windowBytes: 0 })) {
        pulled++
        await sleep(pulled % 5 === 0 ? 60 : 1)
        expect(produced).toBeLessThanOrEqual(pulled + 6 + 1)
        if (pulled === 20) break
      }
      expect(pulled).toBe(20)
    })

    r.test('a stream of small items under byte credit delivers everything in order', async (t) => {
      const method = t.name('many')
      const server = await t.bus()
      await server.requests.serve(method, function* () {
        for (let i = 0; i < 20_000; i++) yield i
      })
      const client = await t.bus()
      const rec = t.record(
        client.requests.stream<number>(method, undefined, { window: 100, windowBytes: 64 }),
      )
      await rec.complete()
      expect(rec.values).toHaveLength(20_000)
      expect(rec.values.every((v, i) => v === i)).toBe(true)
    })

    r.test('an error after an item held for byte credit arrives after that item', async (t) => {
      const method = t.name('heldfail')
      const server = await t.bus()
      await server.requests.serve(method, () =>
        concat(
          from([Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(600, 3)]),
          throwError(() => new RangeError('after the big ones')),
        ),
      )
      const client = await t.bus()
      const got: number[] = []
      let failure: unknown
      try {
        for await (const item of client.requests.stream<Uint8Array>(method, undefined, {
          windowBytes: 1000,
        })) {
          got.push(item[0] as number)
          await sleep(10)
        }
      } catch (err) {
        failure = err
      }
      expect(got).toEqual([1, 2, 3])
      expect(failure).toMatchObject({ name: 'RangeError', message: 'after the big ones' })
    })

    r.test('cancelling a stream whose server holds an item for credit aborts the handler', async (t) => {
      const method = t.name('heldcancel')
      const server = await t.bus()
      const cancelled = deferred()
      await server.requests.serve(method, async function* (_d: unknown, ctx: RequestContext) {
        ctx.signal.addEventListener('abort', () => cancelled.resolve(), { once: true })
        for (;;) yield Buffer.alloc(5000)
      })
      const client = await t.bus()
      let pulled = 0
      for await (const _ of client.requests.stream(method, undefined, { windowBytes: 1000 })) {
        await sleep(20)
        if (++pulled === 2) break
      }
      await t.within(cancelled.promise, 'the server seeing the cancellation')
    })

    r.test('a plain value returned to a stream call arrives as a one-item stream', async (t) => {
      const method = t.name('single')
      const server = await t.bus()
      await server.requests.serve(method, () => 'only')
      const client = await t.bus()
      const rec = t.record(client.requests.stream(method))
      await rec.complete()
      expect(rec.values).toEqual(['only'])
    })

    r.test('a stream of a method nobody serves fails with NoHandlerError', async (t) => {
      const client = await t.bus()
      const rec = t.record(client.requests.stream(t.name('missing')))
      expect(await rejectionOf(rec.until(() => false, 'the stream error'))).toBeInstanceOf(NoHandlerError)
    })

    r.test('a stream with a timeout fails with TimeoutError when it runs too long', async (t) => {
      const method = t.name('ticks')
      const server = await t.bus()
      await server.requests.serve(method, (_d, ctx) => ticks(ctx, () => {}))
      const client = await t.bus()
      const rec = t.record(client.requests.stream(method, undefined, { timeout: 150 }))
      expect(await rejectionOf(rec.until(() => false, 'the stream error'))).toBeInstanceOf(TimeoutError)
    })

    r.test('a stream with a window of one item still delivers everything in order', async (t) => {
      const method = t.name('narrow')
      const server = await t.bus()
      await server.requests.serve(method, async function* () {
        for (let i = 0; i < 30; i++) yield i
      })
      const client = await t.bus()
      const got: number[] = []
      for await (const n of client.requests.stream<number>(method, undefined, { window: 1 })) got.push(n)
      expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i))
      const rec = t.record(client.requests.stream<number>(method, undefined, { window: 1 }))
      await rec.complete()
      expect(rec.values).toHaveLength(30)
    })

    r.test('two concurrent streams of one caller stay separate', async (t) => {
      const method = t.name('tagged')
      const server = await t.bus()
      await server.requests.serve(method, async function* (tag: string) {
        for (let i = 0; i < 20; i++) {
          yield `${tag}${i}`
          await sleep(1)
        }
      })
      const client = await t.bus()
      const a = t.record(client.requests.stream<string>(method, 'a'))
      const b = t.record(client.requests.stream<string>(method, 'b'))
      await Promise.all([a.complete(), b.complete()])
      expect(a.values).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`))
      expect(b.values).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`))
    })

    r.test('an Observable that errors mid-stream delivers its items, then RemoteError', async (t) => {
      const method = t.name('obsfail')
      const server = await t.bus()
      await server.requests.serve(method, () =>
        concat(
          from([1, 2]),
          throwError(() => new RangeError('too far')),
        ),
      )
      const client = await t.bus()
      const rec = t.record(client.requests.stream<number>(method))
      const err = await rejectionOf(rec.until(() => false, 'the stream error'))
      expect(rec.values).toEqual([1, 2])
      expect(err).toMatchObject({ name: 'RangeError', message: 'too far' })
    })

    r.test('unsubscribing right after subscribing still cancels the stream on the server', async (t) => {
      const method = t.name('ticks')
      const server = await t.bus()
      const cancelled = deferred()
      const started = deferred()
      await server.requests.serve(method, (_d, ctx) => {
        started.resolve()
        return ticks(ctx, () => cancelled.resolve())
      })
      const client = await t.bus()
      client.requests.stream(method).subscribe().unsubscribe()
      await t.within(started.promise, 'the server receiving the stream call')
      await t.within(cancelled.promise, 'the server seeing the cancellation')
    })
  })
}
