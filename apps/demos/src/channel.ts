/**
 * channel (shmchannel): two peers, each sending requests and notifications to the other.
 * @module
 */
import type { Bus, EventMessage } from '@unipc/core'
import { connectAs, type Demo, type DemoContext, expectThat, show, waitUntil } from './demo.js'

/** A peer: answers `<name>.ask` requests, takes notifications on `<name>.notify`. */
interface Peer {
  readonly name: string
  readonly bus: Bus
  readonly notes: unknown[]
}

async function startPeer(ctx: DemoContext, name: string, answer: (q: unknown) => unknown): Promise<Peer> {
  const bus = await connectAs(ctx, name)
  const notes: unknown[] = []
  await bus.requests.serve(`${name}.ask`, (q) => {
    const a = answer(q)
    ctx.say(name, `answered request ${show(q)} with ${show(a)}`)
    return a
  })
  const sub = bus.events.subscribe(`${name}.notify`)
  sub.subscribe((e: EventMessage) => {
    notes.push(e.data)
    ctx.say(name, `got notification ${show(e.data)}`)
  })
  await sub.ready
  return { name, bus, notes }
}

export const channelDemo: Demo = {
  name: 'channel',
  title: 'shmchannel: two peers sending each other requests and notifications',
  async run(ctx) {
    const left = await startPeer(ctx, 'left', (q) => ({ sum: (q as number[]).reduce((a, b) => a + b, 0) }))
    const right = await startPeer(ctx, 'right', (q) => String(q).toUpperCase())
    try {
      const upper = await left.bus.requests.call('right.ask', 'hello from left', { timeout: 5000 })
      ctx.say('left', `asked right, got ${show(upper)}`)
      expectThat(upper === 'HELLO FROM LEFT', 'right answers left')
      const sum = await right.bus.requests.call<{ sum: number }>('left.ask', [1, 2, 3], { timeout: 5000 })
      ctx.say('right', `asked left, got ${show(sum)}`)
      expectThat(sum.sum === 6, 'left answers right')
      await left.bus.events.publish('right.notify', { from: 'left', note: 'frame ready' })
      await right.bus.events.publish('left.notify', { from: 'right', note: 'ack' })
      await waitUntil(() => left.notes.length === 1 && right.notes.length === 1)
      ctx.say('both', 'each peer got the other one’s notification')
    } finally {
      await Promise.all([left.bus.close(), right.bus.close()])
    }
  },
}
