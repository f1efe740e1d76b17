/**
 * The same typed-service scenarios over every transport that exists: unary, streaming,
 * cancellation reaching the server, deadlines, declared and undeclared errors, two server instances
 * sharing 1,000 calls, and a slow stream consumer with bounded memory on both sides.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Bus, RemoteError, TimeoutError, ValidationError } from '@unipc/core'
import { spawnTs, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type ServiceClient, type ServiceServer, serve } from '../../src/index.js'
import { Expelled, newProbe, type Probe, School, StudentNotFound, schoolImpl } from '../fixtures/school.js'
import { type TransportEnv, transports } from './transports.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
/** Heap in use after a full garbage collection: what is really retained. */
const retainedHeap = (): number => {
  gc()
  return process.memoryUsage().heapUsed
}

/** Items of the slow-consumer stream: a million on memory (RPC_STREAMS_BIG=1: everywhere; kept short for the test budget). */
const bigStream = (name: string): number =>
  process.env.RPC_STREAMS_BIG === '1' || name === 'memory' ? 1_000_000 : 200_000

for (const tc of transports) {
  describe.skipIf(tc.skip !== undefined)(
    `typed services over ${tc.name}${tc.skip ? ` (skipped: ${tc.skip})` : ''}`,
    () => {
      let env: TransportEnv
      let serverBus: Bus
      let clientBus: Bus
      let server: ServiceServer
      let client: ServiceClient<typeof School>
      const probe: Probe = newProbe()

      beforeAll(async () => {
        env = await tc.start()
        serverBus = await env.connect('school-server')
        clientBus = await env.connect('school-client')
        server = await serve(serverBus, School, schoolImpl('A', probe))
        client = createClient(clientBus, School)
      })
      afterAll(async () => {
        await server?.close()
        await env?.close()
      })

      it('calls a unary method and gets a typed, validated result', async () => {
        const s = await client.get({ id: '42' })
        expect(s).toEqual({ id: '42', name: 'student 42', age: 20 })
        // The reply cache is on by default only where requests are redelivered.
        expect(server.replyCache !== undefined).toBe(tc.name === 'redis')
      })

      it('rejects bad parameters locally with the field path, without calling the server', async () => {
        const before = probe.calls
        // @ts-expect-error id must be a string
        await expect(client.get({ id: 42 })).rejects.toThrow(ValidationError)
        await expect(client.get({ id: 42 } as never)).rejects.toMatchObject({ path: 'params.id' })
        const viaRx = await new Promise((resolve) => client.count({ n: -1 }).subscribe({ error: resolve }))
        expect(viaRx).toMatchObject({ name: 'ValidationError', path: 'params.n' })
        const loop = async () => {
          for await (const _ of client.count({ n: 1.5 })) throw new Error('no item expected')
        }
        await expect(loop()).rejects.toMatchObject({ name: 'ValidationError', path: 'params.n' })
        expect(probe.calls).toBe(before)
      })

      it('streams results as an Observable and as an async iterable', async () => {
        const viaRx: number[] = []
        await new Promise<void>((resolve, reject) =>
          client
            .count({ n: 1000 })
            .subscribe({ next: (x) => viaRx.push(x.i), error: reject, complete: resolve }),
        )
        expect(viaRx).toEqual(Array.from({ length: 1000 }, (_, i) => i))
        const viaLoop: number[] = []
        for await (const x of client.count({ n: 300 })) viaLoop.push(x.i)
        expect(viaLoop.length).toBe(300)
        expect(viaLoop[299]).toBe(299)
      })

      it('cancels a stream on the server when the client unsubscribes or breaks out of the loop', async () => {
        const before = probe.cancelled.filter((c) => c.method === 'forever').length
        const got: number[] = []
        const sub = client.forever().subscribe((i) => got.push(i))
        await waitFor(() => got.length >= 5)
        sub.unsubscribe()
        await waitFor(() => probe.cancelled.filter((c) => c.method === 'forever').length === before + 1)
        for await (const i of client.forever()) if (i >= 3) break
        await waitFor(() => probe.cancelled.filter((c) => c.method === 'forever').length === before + 2)
        await waitFor(() => probe.finished.filter((f) => f === 'forever').length >= 2)
        expect(probe.cancelled.at(-1)?.reason).toBe('AbortError')
      })

      it('cancels a unary call on the server through an AbortSignal', async () => {
        const before = probe.cancelled.length
        const ac = new AbortController()
        const call = client.wait({ ms: 10_000 }, { signal: ac.signal })
        await waitFor(() => probe.deadlines.length > 0 && probe.calls > 0)
        await sleep(50)
        ac.abort()
        await expect(call).rejects.toMatchObject({ name: 'AbortError' })
        await waitFor(() => probe.cancelled.length === before + 1)
        expect(probe.cancelled.at(-1)).toEqual({ method: 'wait', reason: 'AbortError' })
      })

      it('propagates the deadline: the server sees it and its signal fires when it passes', async () => {
        const before = probe.cancelled.length
        const sent = Date.now()
        await expect(client.wait({ ms: 10_000 }, { timeout: 300 })).rejects.toThrow(TimeoutError)
        const deadline = probe.deadlines.at(-1)
        expect(deadline).toBeGreaterThanOrEqual(sent + 300)
        expect(deadline).toBeLessThanOrEqual(Date.now() + 300)
        await waitFor(() => probe.cancelled.length === before + 1)
        expect(probe.cancelled.at(-1)).toEqual({ method: 'wait', reason: 'TimeoutError' })
        const ok = await client.wait({ ms: 0 }, { timeout: 5000 })
        expect(ok.remaining).toBeGreaterThan(0)
        expect(ok.remaining).toBeLessThanOrEqual(5000)
      })

      it('re-creates declared errors as the same class with their fields', async () => {
        const err = await client.get({ id: 'missing' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(StudentNotFound)
        expect(err).toMatchObject({
          id: 'missing',
          message: 'no student missing',
          code: 'StudentNotFound',
          remote: true,
        })
        const err2 = await client.expel().catch((e: unknown) => e)
        expect(err2).toBeInstanceOf(Expelled)
        expect((err2 as InstanceType<typeof Expelled>).reason).toBe('too loud')
      })

      it('delivers undeclared errors (and errors declared only elsewhere) as RemoteError', async () => {
        const err = await client.fail({ kind: 'undeclared' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ name: 'TypeError', message: 'undeclared failure' })
        const foreign = await client.fail({ kind: 'foreign' }).catch((e: unknown) => e)
        expect(foreign).toBeInstanceOf(RemoteError)
        expect(foreign).not.toBeInstanceOf(Expelled)
        expect(foreign).toMatchObject({ name: 'Expelled', data: { reason: 'not declared by fail' } })
        await expect(client.fail({ kind: 'declared' })).rejects.toBeInstanceOf(StudentNotFound)
      })

      it('shares 1,000 calls between two server instances', async () => {
        const bus2 = await env.connect('school-server-2')
        const probeB = newProbe()
        const serverB = await serve(bus2, School, schoolImpl('B', probeB))
        try {
          const who: string[] = []
          for (let batch = 0; batch < 10; batch++) {
            const rs = await Promise.all(Array.from({ length: 100 }, () => client.who({ ms: 1 })))
            who.push(...rs)
          }
          const a = who.filter((w) => w === 'A').length
          const b = who.filter((w) => w === 'B').length
          expect(a + b).toBe(1000)
          expect(a).toBeGreaterThanOrEqual(50)
          expect(b).toBeGreaterThanOrEqual(50)
        } finally {
          await serverB.close()
        }
      })

      it.runIf(tc.name === 'redis')(
        'finishes a call on another instance when its server is killed mid-call',
        async () => {
          const child = spawnTs(fixture('school-server.ts'), [env.url, 'C'])
          try {
            await child.waitForLine('ready')
            // Only the child serves now, so it takes the call; then it dies holding it.
            await server.close()
            const call = client.who({ ms: 60_000 }, { timeout: 30_000 })
            await child.waitForLine('started who')
            await child.kill('SIGKILL')
            const probeB = newProbe()
            const redelivered: boolean[] = []
            const impl = schoolImpl('B', probeB)
            const b = await serve(serverBus, School, {
              ...impl,
              who: (_params, ctx) => {
                redelivered.push(ctx.redelivered)
                return impl.who({ ms: 0 }, ctx)
              },
            })
            try {
              expect(await call).toBe('B')
              expect(redelivered).toEqual([true])
            } finally {
              await b.close()
            }
          } finally {
            await child.kill('SIGKILL')
            server = await serve(serverBus, School, schoolImpl('A', probe))
          }
        },
      )

      it('keeps memory bounded on both sides with a big stream to a slow consumer', async () => {
        const n = bigStream(tc.name)
        const window = 64
        const produced0 = probe.produced
        let consumed = 0
        let maxAhead = 0
        const heap0 = retainedHeap()
        let maxHeap = heap0
        for await (const item of client.count({ n, pad: 100 }, { window })) {
          if (item.i !== consumed) throw new Error(`item ${item.i} arrived at position ${consumed}`)
          consumed++
          maxAhead = Math.max(maxAhead, probe.produced - produced0 - consumed)
          if (consumed % 1000 === 0) await new Promise((r) => setImmediate(r)) // the slow part
          if (consumed % (n / 10) === 0) maxHeap = Math.max(maxHeap, retainedHeap())
        }
        const growth = maxHeap - heap0
        if (process.env.RPC_STREAMS_REPORT)
          console.info(
            `${tc.name}: ${n} items, max ahead ${maxAhead}, retained heap growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
          )
        expect(consumed).toBe(n)
        // Produced-but-not-consumed items are everything buffered on either side or in flight:
        // the credit window bounds it (plus the one item the generator has ready).
        expect(maxAhead).toBeLessThanOrEqual(window + 1)
        // Retained heap (after a full GC) while streaming: buffering n items of ~110 bytes would keep
        // over 20 MB (and far more as objects); bounded buffering keeps it flat.
        expect(growth).toBeLessThan(16 * 1024 * 1024)
      }, 120_000)
    },
  )
}
