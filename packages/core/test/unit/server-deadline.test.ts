import { afterAll, describe, expect, it } from 'vitest'
import { type Bus, connect, msgpackCodec, registerTransport } from '../../src/index.js'
import { decodeInbox, encodeRequest, FrameKind } from '../../src/internal/frames.js'
import { createMemoryTransport } from '../../src/memory/memory-transport.js'
import type { Delivery, Transport } from '../../src/spi.js'

/** What the server's transport was handed: its request receivers by method, and the ids of the results sent. */
const seen = {
  receivers: new Map<string, (d: Delivery) => void>(),
  results: [] as number[],
}

// A memory transport whose server receiver the test drives directly, with frames it writes itself
// (deadlines of its choosing), and whose sends are only recorded.
registerTransport('deadline-rec', (url: URL): Transport => {
  const inner = createMemoryTransport(new URL(`memory://${url.hostname}`))
  const m = inner.messaging
  return {
    name: 'deadline-rec',
    supports: inner.supports,
    limits: inner.limits,
    open: inner.open.bind(inner),
    close: inner.close.bind(inner),
    queues: inner.queues,
    maps: inner.maps,
    pubsub: inner.pubsub,
    messaging: {
      get address() {
        return m.address
      },
      onMessage: (handler) => m.onMessage(handler),
      serve: (method, onRequest) => {
        seen.receivers.set(method, onRequest)
        return m.serve(method, onRequest)
      },
      send: (_to, data) => {
        const f = decodeInbox(data)
        if (f.kind === FrameKind.Result) seen.results.push(f.id)
      },
      dispatch: (method, data) => m.dispatch(method, data),
    },
  }
})

const handled: number[] = []
const acked: number[] = []
/** How long the handler of each id keeps the thread busy (ms). */
const busy = new Map<number, number>()
let bus: Bus

function deliver(id: number, deadline: number): void {
  const data = encodeRequest({
    id,
    method: 'work',
    body: msgpackCodec.encode(id),
    replyTo: 'caller-inbox',
    flags: 0,
    deadline,
    sender: '',
    window: 0,
  })
  seen.receivers.get('work')?.({ data, redelivered: false, ack: () => acked.push(id) })
}

function reset(): void {
  handled.length = 0
  acked.length = 0
  seen.results.length = 0
}

describe('a server judges deadlines on arrival and on answering', async () => {
  bus = await connect('deadline-rec://server-deadline', { component: 'srv' })
  await bus.requests.serve('work', (id: number) => {
    handled.push(id)
    const ms = busy.get(id)
    if (ms) for (const end = Date.now() + ms; Date.now() < end; );
    return id
  })
  let ctxSeen: unknown
  await bus.requests.serve('ctx', (_d, ctx) => {
    ctxSeen = ctx
    return null
  })
  afterAll(() => bus.close())

  it("gives a handler a context whose own fields are the context's alone", () => {
    const data = encodeRequest({
      id: 7,
      method: 'ctx',
      body: msgpackCodec.encode(null),
      replyTo: 'caller-inbox',
      flags: 0,
      deadline: 0,
      sender: 'cam',
      window: 0,
    })
    seen.receivers.get('ctx')?.({ data, redelivered: true, ack: () => {} })
    expect({ ...(ctxSeen as object) }).toEqual({
      id: 7,
      method: 'ctx',
      sender: 'cam',
      deadline: undefined,
      caller: 'caller-inbox',
      redelivered: true,
    })
    expect(JSON.parse(JSON.stringify(ctxSeen))).toEqual({
      id: 7,
      method: 'ctx',
      sender: 'cam',
      caller: 'caller-inbox',
      redelivered: true,
    })
    expect((ctxSeen as { signal: AbortSignal }).signal.aborted).toBe(false)
  })

  it('acknowledges a request whose deadline passed before it arrived, without handling it', () => {
    reset()
    deliver(1, Date.now() - 5)
    deliver(2, Date.now() + 60_000)
    expect(handled).toEqual([2])
    expect(acked).toEqual([1, 2])
    expect(seen.results).toEqual([2])
  })

  it('in one batch, drops the answer of a handler that ran past its deadline and the requests that expired meanwhile', () => {
    reset()
    const soon = Date.now() + 10
    busy.set(11, 40)
    deliver(11, soon)
    deliver(12, soon)
    deliver(13, Date.now() + 60_000)
    expect(handled).toEqual([11, 13])
    expect(seen.results).toEqual([13])
    expect(acked).toEqual([11, 12, 13])
  })

  it('reads the clock again for a request that arrives in a later task than the last answer', async () => {
    reset()
    deliver(21, Date.now() + 60_000)
    const soon = Date.now() + 10
    await new Promise((r) => setTimeout(r, 40))
    deliver(22, soon)
    expect(handled).toEqual([21])
    expect(seen.results).toEqual([21])
    expect(acked).toEqual([21, 22])
  })
})
