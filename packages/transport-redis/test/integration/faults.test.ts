/**
 * Faults across real processes: a worker or server killed with SIGKILL while holding work, and a
 * redis-server restart that clients recover from by themselves.
 */
import { fileURLToPath } from 'node:url'
import { type Bus, ConnectionError, connect, msgpackCodec } from '@unipc/core'
import { encodeCommand } from '@unipc/core/spi'
import { type ChildHandle, spawnTs, startRedis, type TestRedis, waitFor } from '@unipc/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const peerScript = fileURLToPath(new URL('../fixtures/peer.ts', import.meta.url))
const TTL = 600

let redis: TestRedis
const buses: Bus[] = []
const children: ChildHandle[] = []
let n = 0

beforeAll(async () => {
  redis = await startRedis({ persistence: true })
})
afterEach(async () => {
  await Promise.allSettled(children.splice(0).map((c) => c.kill('SIGKILL')))
  await Promise.allSettled(buses.splice(0).map((b) => b.close()))
})
afterAll(async () => {
  await redis?.stop()
})

const url = (): string => `${redis.unixUrl}?workerTtl=${TTL}`
async function bus(component?: string): Promise<Bus> {
  const b = await connect(url(), { component, timeout: 15_000 })
  buses.push(b)
  return b
}
async function peer(component: string, method: string, mode: 'hang' | 'answer'): Promise<ChildHandle> {
  const child = spawnTs(peerScript, [url(), component, method, mode])
  children.push(child)
  await child.waitForLine('ready', 20_000)
  return child
}

describe('faults across processes', () => {
  it('a command held by a SIGKILLed worker process goes to another worker, flagged redelivered', async () => {
    const component = `w${++n}`
    const doomed = await peer(component, `m${n}`, 'hang')
    const sender = await bus()
    const reply = sender.commands.send(component, 'job-1')
    await doomed.waitForLine('took command job-1')
    await doomed.kill('SIGKILL')
    const other = await bus(component)
    await other.commands.handle((cmd: string, ctx) => ({ cmd, redelivered: ctx.redelivered, by: 'other' }))
    expect(await reply).toEqual({ cmd: 'job-1', redelivered: true, by: 'other' })
  })

  it('a request held by a SIGKILLed server process is answered by a second instance', async () => {
    const method = `slow${++n}`
    const doomed = await peer(`c${n}`, method, 'hang')
    const client = await bus()
    const result = client.requests.call(method, 'r-1')
    await doomed.waitForLine('took request r-1')
    const second = await peer(`c${n}`, method, 'answer')
    await doomed.kill('SIGKILL')
    expect(await result).toEqual({ pid: second.process.pid, what: 'request r-1', redelivered: true })
  })

  it('clients recover by themselves after redis-server restarts', async () => {
    const component = `r${++n}`
    const method = `echo${n}`
    const server = await bus(component)
    await server.commands.handle((cmd: number) => cmd + 1)
    await server.requests.serve(method, (d: string) => `echo ${d}`)
    const client = await bus()
    const states: string[] = []
    client.state$.subscribe((s) => states.push(s))
    const events: unknown[] = []
    const sub = client.events.subscribe(`${component}.*`)
    sub.subscribe((m) => events.push(m.data))
    await sub.ready
    const watched: unknown[] = []
    client.settings.watch(component, 'mode').subscribe((v) => watched.push(v))
    // A SIGKILLed Redis keeps only what reached its append-only file. With the default
    // `appendfsync everysec`, Redis may postpone that write while a slow fsync runs (a loaded CI disk)
    // yet still reply: fsync every write here, so the test checks unipc's recovery, not the disk.
    await redis.cli('CONFIG', 'SET', 'appendfsync', 'always')
    await client.settings.set(component, 'mode', 'before')
    await waitFor(() => watched.includes('before'))

    await redis.restart({ hard: true })

    await waitFor(() => states.includes('reconnecting') && states.at(-1) === 'connected', 15_000)
    // Settings persisted (append-only file); every facility works again without intervention.
    expect(await client.settings.get(component, 'mode')).toBe('before')
    await waitFor(
      async () => (await client.requests.call(method, 'x', { timeout: 2000 }).catch(() => '')) === 'echo x',
      15_000,
    )
    expect(await client.commands.send(component, 41, { timeout: 5000 })).toBe(42)
    await client.settings.set(component, 'mode', 'after')
    await waitFor(() => watched.includes('after'))
    await waitFor(async () => {
      await server.events.publish(`${component}.tick`, 'after-restart')
      return events.includes('after-restart')
    })
    // The server registered once: a restart does not duplicate its handler.
    const consumers = await redis.cli('XINFO', 'CONSUMERS', `unipc:rq:{${method}}`, 'servers')
    expect(consumers.split('\n').filter((l) => l === 'name').length).toBe(1)
  })

  it('a bus serving requests closes while redis-server is down', async () => {
    const server = await bus()
    await server.requests.serve(`down${++n}`, (d: string) => d)
    const restarted = redis.restart({ hard: true, downMs: 1500 })
    await waitFor(() => server.state === 'reconnecting', 5000)
    // By now the server's blocking connection waits between two reconnect attempts: closing it
    // there must end it (ioredis alone would leave it waiting forever, and close() with it).
    await new Promise((r) => setTimeout(r, 700))
    const closed = server.close().then(() => 'closed')
    await restarted
    let timer: NodeJS.Timeout | undefined
    const watchdog = new Promise((r) => {
      timer = setTimeout(() => r('still closing 10 s after redis-server came back'), 10_000)
    })
    expect(await Promise.race([closed, watchdog])).toBe('closed')
    clearTimeout(timer)
  })

  it('after a restart that lost all data, servers and workers register again, the group is recreated and watchers resync', async () => {
    const volatile = await startRedis()
    const open = (component?: string): Promise<Bus> =>
      connect(`${volatile.unixUrl}?workerTtl=${TTL}`, { component, timeout: 5000 }).then((b) => {
        buses.push(b)
        return b
      })
    try {
      const server = await open('vol')
      await server.requests.serve('vol.echo', (d: string) => d)
      await server.commands.handle((n: number) => n * 2)
      const client = await open()
      expect(await client.requests.call('vol.echo', 'a')).toBe('a')
      const seen: unknown[] = []
      client.settings.watch('vol', 'k').subscribe((v) => seen.push(v))
      await client.settings.set('vol', 'k', 'kept?')
      await waitFor(() => seen.includes('kept?'))
      await volatile.restart({ hard: true })
      // The watcher resyncs after the reconnect: the setting is gone with the data.
      await waitFor(() => seen.lastIndexOf(undefined) > seen.indexOf('kept?'), 15_000)
      await waitFor(
        async () => (await client.requests.call('vol.echo', 'b', { timeout: 1000 }).catch(() => '')) === 'b',
        15_000,
      )
      expect(await client.commands.send('vol', 21)).toBe(42)
      const groups = await volatile.cli('XINFO', 'GROUPS', 'unipc:rq:{vol.echo}')
      expect(groups).toContain('servers')
    } finally {
      await Promise.allSettled(buses.splice(0).map((b) => b.close()))
      await volatile.stop()
    }
  })

  it('when connections drop, a command whose take reply was lost is delivered from the processing list', async () => {
    const worker = await bus('lost')
    const seen: { cmd: unknown; redelivered: boolean }[] = []
    await worker.commands.handle((cmd: unknown, ctx) => {
      seen.push({ cmd, redelivered: ctx.redelivered })
      return 'ok'
    })
    await worker.requests.serve('lost.echo', (d: string) => d)
    const [workerId] = (await redis.cli('SMEMBERS', 'unipc:q:{lost}:workers')).trim().split('\n')
    // As if a BLMOVE had moved this command into the worker's list and its reply never arrived.
    const plain = new Redis({ path: redis.socketPath })
    const frame = encodeCommand({
      id: 7,
      body: msgpackCodec.encode('lost-one'),
      replyTo: '',
      deadline: 0,
      sender: 't',
    })
    await plain.rpush(`unipc:q:{lost}:proc:${workerId}`, Buffer.concat([Buffer.from('0'), frame]))
    plain.disconnect()
    await redis.cli('CLIENT', 'KILL', 'TYPE', 'normal')
    await waitFor(() => seen.length === 1, 10_000)
    expect(seen[0]).toEqual({ cmd: 'lost-one', redelivered: true })
    // Nothing hangs: the worker and the server block again on their new connections.
    const client = await bus()
    expect(await client.commands.send('lost', 'next')).toBe('ok')
    expect(await client.requests.call('lost.echo', 'x')).toBe('x')
  })

  it('a write Redis refuses surfaces to the caller as ConnectionError', async () => {
    const b = await bus('oom')
    await redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    await redis.cli('CONFIG', 'SET', 'maxmemory', '1')
    try {
      const err = await b.settings.set('oom', 'k', 'v').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ConnectionError)
      expect(String((err as Error).message)).toMatch(/OOM/)
      await expect(b.commands.send('oom', 'x', { noReply: true })).rejects.toBeInstanceOf(ConnectionError)
    } finally {
      await redis.cli('CONFIG', 'SET', 'maxmemory', '0')
    }
  })
})
