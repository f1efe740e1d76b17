/**
 * Redelivered calls are answered from the reply cache instead of running twice. A thin wrapper
 * around the real memory transport delivers every request to the server a second time, flagged
 * `redelivered`, the way Redis does when it hands a dead consumer's pending entry to another.
 */
import { type Bus, connect, createMemoryTransport, type Delivery, type Transport } from '@unipc/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createClient,
  defineService,
  type ServeOptions,
  type ServiceServer,
  serve,
  t,
} from '../../src/index.js'

/** Delivers each dispatched request twice: at once, then again after `delayMs` as a redelivery. */
function duplicating(inner: Transport, delayMs: number): Transport {
  return {
    name: `${inner.name}+duplicates`,
    supports: inner.supports,
    limits: inner.limits,
    open: (ctx) => inner.open(ctx),
    close: () => inner.close(),
    queues: inner.queues,
    maps: inner.maps,
    pubsub: inner.pubsub,
    messaging: {
      get address() {
        return inner.messaging.address
      },
      onMessage: (h) => inner.messaging.onMessage(h),
      send: (to, data) => inner.messaging.send(to, data),
      dispatch: (method, data) => inner.messaging.dispatch(method, data),
      serve: (method, onRequest) =>
        inner.messaging.serve(method, (d: Delivery) => {
          onRequest(d)
          const again: Delivery = { data: d.data, redelivered: true, ack() {} }
          setTimeout(() => onRequest(again), delayMs)
        }),
    },
  }
}

const Counter = defineService({
  name: 'idem.Counter',
  methods: { bump: { params: t.object({ by: t.uint32() }), result: t.uint32() } },
})

let world = 0
const buses: Bus[] = []
const servers: ServiceServer[] = []
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()))
  await Promise.allSettled(buses.splice(0).map((b) => b.close()))
})

async function setup(delayMs: number, options: ServeOptions) {
  const url = `memory://idem-${++world}`
  const serverBus = await connect(duplicating(createMemoryTransport(new URL(url)), delayMs), {
    component: 's',
  })
  const clientBus = await connect(url, { component: 'c' })
  buses.push(serverBus, clientBus)
  let total = 0
  let runs = 0
  const server = await serve(
    serverBus,
    Counter,
    {
      async bump({ by }) {
        runs++
        await new Promise((r) => setTimeout(r, 5))
        total += by
        return total
      },
    },
    options,
  )
  servers.push(server)
  return { server, client: createClient(clientBus, Counter), runs: () => runs, total: () => total }
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('idempotency', () => {
  it('answers a redelivery that arrives after the reply from the cache', async () => {
    const s = await setup(30, { idempotency: { windowMs: 5_000 } })
    for (let i = 1; i <= 20; i++) expect(await s.client.bump({ by: 1 })).toBe(i)
    await settle(100)
    expect(s.runs()).toBe(20)
    expect(s.total()).toBe(20)
    expect(s.server.replyCache?.hits).toBe(20)
  })

  it('joins a redelivery that arrives while the first run is still going', async () => {
    const s = await setup(0, { idempotency: true })
    await Promise.all(Array.from({ length: 10 }, () => s.client.bump({ by: 2 })))
    await settle(50)
    expect(s.runs()).toBe(10)
    expect(s.total()).toBe(20)
    expect(s.server.replyCache?.hits).toBe(10)
  })

  it('runs a redelivery again once the window has passed', async () => {
    const s = await setup(80, { idempotency: { windowMs: 20 } })
    await s.client.bump({ by: 1 })
    await settle(150)
    expect(s.runs()).toBe(2)
  })

  it('runs every delivery when idempotency is off (what the cache prevents)', async () => {
    const s = await setup(10, { idempotency: false })
    for (let i = 0; i < 5; i++) await s.client.bump({ by: 1 })
    await settle(60)
    expect(s.runs()).toBe(10)
    expect(s.server.replyCache).toBeUndefined()
  })
})
