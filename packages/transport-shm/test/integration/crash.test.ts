import { fileURLToPath } from 'node:url'
import { type Bus, ConnectionError, connect } from '@unipc/core'
import { type ChildHandle, spawnTs, waitFor } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { listSegments } from '../../src/gc.js'
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

let broker: BrokerProcess
const children: ChildHandle[] = []
const buses: Bus[] = []
beforeAll(async () => {
  broker = await startBrokerProcess()
})
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')))
})
afterAll(async () => {
  await broker?.stop()
})

async function child(name: string, args: string[]): Promise<ChildHandle> {
  const c = spawnTs(fixture(name), args)
  children.push(c)
  await c.waitForLine(/^(ready|corrupted)$/, 20_000)
  return c
}

async function bus(): Promise<Bus> {
  const b = await connect(broker.url, { component: 'tester' })
  buses.push(b)
  return b
}

describe('shm crash safety', () => {
  it('SIGKILL of a server mid-stream: the reader keeps running and its stream fails naming the dead peer', async () => {
    const server = await child('stream-server.ts', [broker.url])
    const b = await bus()
    const items: number[] = []
    const failure = new Promise<unknown>((resolve) => {
      b.requests.stream<number>('ticks', undefined, { window: 64 }).subscribe({
        next: (i) => {
          items.push(i)
        },
        error: resolve,
        complete: () => resolve(new Error('stream completed')),
      })
    })
    await waitFor(() => items.length > 1000)
    server.process.kill('SIGKILL')
    const err = await failure
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toContain(`pid ${server.process.pid}`)
    expect((err as Error).message).toContain('streamer')
    // Items arrived in order up to the kill.
    expect(items.slice(0, 1000)).toEqual([...Array(1000).keys()])
    // This process keeps working over the same broker.
    await b.settings.set('tester', 'after', 'kill')
    expect(await b.settings.get('tester', 'after')).toBe('kill')
  })

  it('a call pending on a SIGKILLed server fails at once with ConnectionError, long before its timeout', async () => {
    const server = await child('stream-server.ts', [broker.url])
    const b = await bus()
    const call = b.requests.call('hang', 1, { timeout: 60_000 })
    await server.waitForLine('hanging')
    server.process.kill('SIGKILL')
    await expect(call).rejects.toBeInstanceOf(ConnectionError)
  })

  it('a bus that writes a corrupted frame length is dropped with a clear log line; the broker keeps serving', async () => {
    const hostile = await child('hostile-bus.ts', [broker.dir, broker.bus])
    await hostile.waitForLine('dropped', 10_000)
    expect(broker.child.process.exitCode).toBe(null)
    // The broker's stderr pipe may deliver after the hostile bus saw its socket close.
    await waitFor(() =>
      /dropped bus pid \d+: corrupt frame from peer: frame length is out of bounds/.test(
        broker.child.stderr(),
      ),
    )
    const b = await bus()
    await b.settings.set('tester', 'still', 'serving')
    expect(await b.settings.get('tester', 'still')).toBe('serving')
  })

  it('segments are 0600 while in use and gone after both sides exit', async () => {
    const holder = await child('hold-bus.ts', [broker.url, String(8 << 20)])
    const pid = holder.process.pid as number
    const mine = listSegments().filter((s) => s.creatorPid === pid)
    expect(mine.length).toBeGreaterThan(0)
    for (const s of mine) expect(s.mode).toBe(0o600)
    const b = await bus()
    await b.settings.get('holder', 'big') // a blob travels broker -> here, and is taken
    const ours = listSegments().filter((s) => s.creatorPid === process.pid)
    for (const s of ours) expect(s.mode).toBe(0o600)
    await holder.kill('SIGTERM')
    await b.close()
    await waitFor(
      () => listSegments().filter((s) => s.creatorPid === pid || s.creatorPid === process.pid).length === 0,
    )
  })
})

describe('shm broker crash', () => {
  it('SIGKILL of the broker: pending calls fail with ConnectionError, buses reconnect to a new broker and serve again', async () => {
    const own = await startBrokerProcess('&idle=200')
    const server = await connect(own.url, { component: 'srv' })
    const client = await connect(own.url, { component: 'cli' })
    buses.push(server, client)
    await server.requests.serve('slow', () => new Promise((r) => setTimeout(() => r('late'), 60_000)))
    await server.requests.serve('twice', (n: number) => n * 2)
    const states: string[] = []
    client.state$.subscribe((s) => states.push(s))
    const failed = expect(client.requests.call('slow', 1, { timeout: 60_000 })).rejects.toBeInstanceOf(
      ConnectionError,
    )
    await new Promise((r) => setTimeout(r, 100))
    await own.child.kill('SIGKILL')
    await failed
    // The server registered again with the broker the buses started in the background.
    await waitFor(
      async () => (await client.requests.call('twice', 21, { timeout: 2000 }).catch(() => 0)) === 42,
      45_000,
    )
    expect(states).toContain('reconnecting')
    await server.close()
    await client.close()
    buses.length = 0
    await own.stop()
  }, 90_000)
})

describe('shm direct links', () => {
  const owned: BrokerProcess[] = []
  afterEach(async () => {
    // Buses first (they unregister with the broker), then the brokers.
    for (const own of owned) own.child.process.kill('SIGCONT')
    await Promise.all(buses.splice(0).map((b) => b.close()))
    for (const own of owned.splice(0)) {
      own.child.process.kill('SIGCONT')
      await own.stop()
    }
  })

  /** Its own broker, the stream-server fixture as a process, and a bus of this process. */
  async function serverWithOwnBroker(): Promise<{ own: BrokerProcess; server: ChildHandle; b: Bus }> {
    const own = await startBrokerProcess()
    owned.push(own)
    const server = spawnTs(fixture('stream-server.ts'), [own.url])
    children.push(server)
    await server.waitForLine('ready')
    const b = await connect(own.url, { component: 'direct' })
    buses.push(b)
    return { own, server, b }
  }

  it('stream items flow straight from the server process while the broker is frozen', async () => {
    const { own, b } = await serverWithOwnBroker()
    let count = 0
    const sub = b.requests
      .stream<number>('ticks', undefined, { window: 32 })
      .subscribe({ next: () => count++ })
    await waitFor(() => count > 100)
    own.child.process.kill('SIGSTOP')
    try {
      // Items and the credit that lets the server send more bypass the broker.
      const before = count
      await waitFor(() => count > before + 1000)
    } finally {
      own.child.process.kill('SIGCONT')
      sub.unsubscribe()
    }
  })

  it('requests go straight to the server process while the broker is frozen (direct dispatch)', async () => {
    const { own, b } = await serverWithOwnBroker()
    // The first call asks the broker who serves 'echo'; later ones need only the server.
    expect(await b.requests.call('echo', 0)).toBe(0)
    own.child.process.kill('SIGSTOP')
    for (let i = 1; i <= 100; i++) expect(await b.requests.call('echo', i, { timeout: 10_000 })).toBe(i)
    const many = await Promise.all(
      Array.from({ length: 256 }, (_, i) => b.requests.call('echo', i, { timeout: 10_000 })),
    )
    expect(many).toEqual([...Array(256).keys()])
  })

  it('SIGKILL of a server mid-call fails the call at once, with the broker frozen (the caller sees it)', async () => {
    const { own, server, b } = await serverWithOwnBroker()
    const call = b.requests.call('hang', 1, { timeout: 60_000 })
    await server.waitForLine('hanging')
    // Frozen, the broker cannot tell anyone about the dead server: the caller's own link does.
    own.child.process.kill('SIGSTOP')
    server.process.kill('SIGKILL')
    const err = await call.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toContain(`pid ${server.process.pid}`)
    expect((err as Error).message).toContain('streamer')
  })
})
