import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bus, connect } from '@unipc/core'
import { type ChildHandle, spawnTs, tempDir, waitFor } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { type Hub, startHub } from '../../src/index.js'
import { encodeFrame, FrameReader } from '../../src/wire/frames.js'
import { decodeValue, type WireValue } from '../../src/wire/msgpack.js'
import { Feature, T } from '../../src/wire/protocol.js'
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js'

const workerFixture = fileURLToPath(new URL('../fixtures/direct-worker.ts', import.meta.url))

interface Reply {
  by: string
  cmd: number
  redelivered: boolean
}

/** Lines `ran <name> <cmd> <redelivered>` a worker printed. */
function ran(w: ChildHandle): { cmd: number; redelivered: boolean }[] {
  return w
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('ran '))
    .map((l) => {
      const [, , cmd, flag] = l.split(' ')
      return { cmd: Number(cmd), redelivered: flag === 'true' }
    })
}

/** Rewrites frames passing through {@link hubProxy}, one direction each. */
interface Rewrite {
  /** client → hub */
  up?(msg: WireValue[]): void
  /** hub → client */
  down?(msg: WireValue[]): void
}

/** A proxy at `path` in front of the hub at `hubPath` that rewrites the frames it passes on. */
async function hubProxy(hubPath: string, path: string, rewrite: Rewrite): Promise<Server> {
  const pass = (from: Socket, to: Socket, change: ((msg: WireValue[]) => void) | undefined): void => {
    const reader = new FrameReader(64 * 1024 * 1024, {
      frame: (body) => {
        const msg = decodeValue(body) as WireValue[]
        change?.(msg)
        const f = encodeFrame(msg)
        if (Array.isArray(f)) for (const part of f) to.write(part)
        else to.write(f)
      },
      error: () => from.destroy(),
    })
    from.on('data', (c: Buffer) => reader.push(c))
  }
  const server = createServer((client) => {
    const upstream = netConnect(hubPath)
    pass(client, upstream, rewrite.up)
    pass(upstream, client, rewrite.down)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return server
}

/** A hub as an older version shows itself: no DirectCommands bit in the Welcome's features. */
const olderHub: Rewrite = {
  down: (msg) => {
    if (msg[0] === T.Welcome) msg[5] = (msg[5] as number) & ~Feature.DirectCommands
  },
}

/** Workers announce a direct endpoint nobody listens on. */
const deadEndpoints: Rewrite = {
  up: (msg) => {
    if (msg[0] === T.Consume && typeof msg[5] === 'string') msg[5] = 'unix:///nonexistent/unipc-direct.sock'
  },
}

describe('commands straight from sender to worker', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  async function embeddedHub(kind: 'unix' | 'tcp' = 'unix'): Promise<{ url: string; hub: Hub }> {
    if (kind === 'tcp') {
      const token = 'direct-commands-test-token'
      const hub = await startHub({ listen: ['tcp://127.0.0.1:0'], token })
      stops.push(() => hub.close())
      return { url: `${hub.urls[0]}?token=${token}`, hub }
    }
    const dir = tempDir('unipc-dcmd-')
    stops.push(() => dir.cleanup())
    const hub = await startHub({ listen: [`unix://${join(dir.path, 'hub.sock')}`] })
    stops.push(() => hub.close())
    return { url: hub.urls[0] as string, hub }
  }

  async function worker(
    url: string,
    component: string,
    name: string,
    ...rest: string[]
  ): Promise<ChildHandle> {
    const w = spawnTs(workerFixture, [url, component, name, ...rest])
    stops.push(() => w.kill('SIGKILL'))
    await w.waitForLine('worker ready')
    return w
  }

  async function sender(url: string): Promise<Bus> {
    const bus = await connect(url, {
      liveness: false,
      transport: { reconnect: { initialDelay: 20, maxDelay: 200 } },
    })
    stops.push(() => bus.close())
    return bus
  }

  /** Sends commands 0…n-1 to `component`, `lanes` at a time; `got()` counts the replies so far. */
  function run(
    bus: Bus,
    component: string,
    n: number,
    lanes: number,
  ): { all: Promise<Reply[]>; got(): number } {
    const replies: Reply[] = new Array(n)
    let next = 0
    let got = 0
    const lane = async (): Promise<void> => {
      while (next < n) {
        const i = next++
        replies[i] = await bus.commands.send<Reply>(component, i, { timeout: 20_000 })
        got++
      }
    }
    const all = Promise.all(Array.from({ length: lanes }, lane)).then(() => replies)
    return { all, got: () => got }
  }

  /** Sends 50 commands from a new sender at `url` and checks that every one went through `hub`. */
  async function expectThroughHub(url: string, hub: Hub): Promise<void> {
    const bus = await sender(url)
    const replies = await run(bus, 'dq', 50, 8).all
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(hub.stats().queued).toBe(50)
  }

  for (const kind of ['unix', 'tcp'] as const)
    it(`commands go straight to the workers (${kind}): the hub queues none of them`, {
      timeout: 30_000,
    }, async () => {
      const { url, hub } = await embeddedHub(kind)
      await Promise.all([worker(url, 'dq', 'w1', 'fast'), worker(url, 'dq', 'w2', 'fast')])
      const bus = await sender(url)
      const replies = await run(bus, 'dq', 300, 32).all
      expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      expect(new Set(replies.map((r) => r.by))).toEqual(new Set(['w1', 'w2']))
      expect(replies.every((r) => !r.redelivered)).toBe(true)
      expect(hub.stats().queued).toBe(0)
    })

  it('a sender that started before any worker moves to the direct path once the hub delivered its queued commands', async () => {
    const { url, hub } = await embeddedHub()
    const bus = await sender(url)
    const early = Array.from({ length: 20 }, (_, i) => bus.commands.send<Reply>('dq', i, { timeout: 20_000 }))
    await waitFor(() => hub.stats().queued === 20)
    await worker(url, 'dq', 'w1', 'slow:5', '2')
    expect((await Promise.all(early)).map((r) => r.cmd)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    const replies = await run(bus, 'dq', 200, 16).all
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(hub.stats().queued).toBe(20)
  }, 30_000)

  it("one sender's commands keep their order while its queue moves from the hub path to the direct path", async () => {
    const { url } = await embeddedHub()
    const bus = await sender(url)
    const first = Array.from({ length: 30 }, (_, i) => bus.commands.send<Reply>('dq', i, { timeout: 20_000 }))
    const w = await worker(url, 'dq', 'w1', 'slow:2', '1')
    // More commands while the worker works through the hub's queue: they must run after those.
    const more = Array.from({ length: 100 }, (_, i) =>
      bus.commands.send<Reply>('dq', 30 + i, { timeout: 20_000 }),
    )
    await Promise.all([...first, ...more])
    expect(ran(w).map((r) => r.cmd)).toEqual(Array.from({ length: 130 }, (_, i) => i))
  }, 30_000)

  it('a worker without a direct listener gets its commands through the hub', async () => {
    const { url, hub } = await embeddedHub()
    await worker(url, 'dq', 'w1', 'fast', '4', 'nodirect')
    await expectThroughHub(url, hub)
  }, 30_000)

  /** An embedded hub behind a {@link hubProxy}; returns the proxy's URL. */
  async function proxiedHub(rewrite: Rewrite): Promise<{ url: string; hub: Hub }> {
    const { url: hubUrl, hub } = await embeddedHub()
    const dir = tempDir('unipc-dcmd-proxy-')
    stops.push(() => dir.cleanup())
    const proxy = await hubProxy(new URL(hubUrl).pathname, join(dir.path, 'proxy.sock'), rewrite)
    stops.push(() => proxy.close())
    return { url: `unix://${join(dir.path, 'proxy.sock')}`, hub }
  }

  it('with a hub that does not introduce workers (an older hub), commands go through the hub', async () => {
    const { url, hub } = await proxiedHub(olderHub)
    await worker(url, 'dq', 'w1', 'fast')
    await expectThroughHub(url, hub)
  }, 30_000)

  it('a worker whose direct endpoint cannot be reached gets its commands through the hub', async () => {
    const { url, hub } = await proxiedHub(deadEndpoints)
    await worker(url, 'dq', 'w1', 'fast')
    const bus = await sender(url)
    const replies = await run(bus, 'dq', 50, 8).all
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    // The first ones waited for the link that never came, then took the hub like the rest.
    expect(hub.stats().queued).toBe(50)
  }, 30_000)

  it('commands of a SIGKILLed worker go to another worker flagged redelivered, and their replies reach the sender', async () => {
    const { url } = await embeddedHub()
    const holder = await worker(url, 'dq', 'holder', 'hold', '6')
    const fast = await worker(url, 'dq', 'fast', 'fast', '3')
    const bus = await sender(url)
    let received = 0
    const pending = Array.from({ length: 12 }, (_, i) =>
      bus.commands.send<Reply>('dq', i, { timeout: 20_000 }).then((r) => {
        received++
        return r
      }),
    )
    // The holder (first in line, so it gets the first command) runs what it gets and never finishes it.
    await waitFor(() => ran(holder).length > 0 && ran(holder).length + received === 12, 10_000)
    const held = ran(holder).map((r) => r.cmd)
    expect(ran(fast).some((r) => held.includes(r.cmd))).toBe(false)
    await holder.kill('SIGKILL')
    const replies = await Promise.all(pending)
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    for (const cmd of held) expect(replies[cmd]).toEqual({ by: 'fast', cmd, redelivered: true })
    // Every command ran to completion exactly once on the surviving worker.
    expect(
      ran(fast)
        .map((r) => r.cmd)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 12 }, (_, i) => i))
  }, 30_000)

  it('a worker that shuts down cleanly finishes or hands back its direct commands: none lost, none run twice', async () => {
    const { url } = await embeddedHub()
    const [leaving, staying] = await Promise.all([
      worker(url, 'dq', 'leaving', 'slow:100', '2'),
      worker(url, 'dq', 'staying', 'slow:20', '2'),
    ])
    const bus = await sender(url)
    const traffic = run(bus, 'dq', 60, 8)
    await waitFor(() => ran(leaving).length >= 3, 10_000)
    await leaving.kill('SIGTERM')
    const replies = await traffic.all
    expect(replies.map((r) => r.cmd)).toEqual(Array.from({ length: 60 }, (_, i) => i))
    const runs = [...ran(leaving), ...ran(staying)].map((r) => r.cmd).sort((a, b) => a - b)
    expect(runs).toEqual(Array.from({ length: 60 }, (_, i) => i))
  }, 30_000)

  it('commands a sender still holds when it closes are handed to the hub and still run', async () => {
    const { url, hub } = await embeddedHub()
    const slow = await worker(url, 'dq', 'slow', 'slow:100', '1')
    const bus = await connect(url, { liveness: false })
    for (let i = 0; i < 8; i++) await bus.commands.send('dq', i, { noReply: true })
    await bus.close()
    // Two were on the direct link (credit 2), the rest waited in the sender: the hub has those now.
    expect(hub.stats().queued).toBeGreaterThanOrEqual(6)
    await waitFor(() => new Set(ran(slow).map((r) => r.cmd)).size === 8, 15_000)
    const runs = ran(slow)
    // A command that ran twice (its worker was slower than the sender's grace) is flagged the second time.
    for (let i = 0; i < 8; i++) {
      const mine = runs.filter((r) => r.cmd === i)
      expect(mine[0]?.redelivered).toBe(false)
      for (const again of mine.slice(1)) expect(again.redelivered).toBe(true)
    }
  }, 30_000)

  it('a hub killed and restarted during direct traffic loses no command', async () => {
    const dir = tempDir('unipc-dcmd-restart-')
    stops.push(() => dir.cleanup())
    const args = ['--listen', `unix://${join(dir.path, 'hub.sock')}`, '--state-file', join(dir.path, 'state')]
    let hub: HubProcess = await startHubProcess(args)
    stops.push(() => hub.stop())
    const url = hub.urls[0] as string
    const [w1, w2] = await Promise.all([worker(url, 'dq', 'w1', 'slow:2'), worker(url, 'dq', 'w2', 'slow:2')])
    const bus = await sender(url)
    // Calls waiting for a reply fail when the hub link drops (core semantics), so this counts what
    // ran: 1200 fire-and-forget commands, 40 every 20 ms, while the hub is killed and restarted.
    const n = 1200
    let sent = 0
    const refused: unknown[] = []
    const traffic = (async () => {
      while (sent < n) {
        for (let k = 0; k < 40; k++)
          bus.commands.send('dq', sent++, { noReply: true }).catch((err) => refused.push(err))
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    await waitFor(() => sent > 200, 10_000)
    await hub.stop('SIGKILL')
    const atKill = ran(w1).length + ran(w2).length
    await new Promise((r) => setTimeout(r, 300))
    // Workers and sender lost the hub, not each other: commands kept flowing meanwhile.
    expect(ran(w1).length + ran(w2).length).toBeGreaterThan(atKill)
    hub = await startHubProcess(args)
    await traffic
    const seen = (): Set<number> => new Set([...ran(w1), ...ran(w2)].map((r) => r.cmd))
    await waitFor(() => seen().size === n, 20_000)
    expect(refused).toEqual([])
    // A command that ran twice is flagged the second time.
    const runs = [...ran(w1), ...ran(w2)]
    for (const cmd of seen()) {
      const mine = runs.filter((r) => r.cmd === cmd)
      for (const again of mine.slice(1)) expect(again.redelivered).toBe(true)
    }
  }, 60_000)
})
