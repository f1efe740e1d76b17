import { readdirSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'
import { ConnectionError, ErrorCode, NoHandlerError } from '@unipc/core/spi'
import { spawnTs, tempDir } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { startHub } from '../../src/index.js'
import { PROTOCOL_VERSION, T } from '../../src/wire/protocol.js'
import { rawConnect } from '../helpers/raw.js'

const serverFixture = fileURLToPath(new URL('../fixtures/server.ts', import.meta.url))

/** The direct listener sockets servers opened next to the hub's socket. */
function directSockets(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('.unipc-d-'))
    .map((f) => join(dir, f))
}

describe('direct path between caller and server', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  async function hubIn(
    query = '',
  ): Promise<{ sock: string; dir: string; hub: Awaited<ReturnType<typeof startHub>> }> {
    const dir = tempDir('unipc-direct-')
    stops.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}${query}`] })
    stops.push(() => hub.close())
    return { sock, dir: dir.path, hub }
  }

  async function bus(url: string, options: Record<string, unknown> = {}) {
    const b = await connect(url, { liveness: false, ...options })
    stops.push(() => b.close())
    return b
  }

  it('requests, streams and cancellation reach the server without the hub routing any request', async () => {
    const { sock, dir, hub } = await hubIn()
    const server = await bus(`unix://${sock}`)
    const caller = await bus(`unix://${sock}`)
    await server.requests.serve('add', (d: { a: number; b: number }) => d.a + d.b)
    await server.requests.serve('count', (n: number) =>
      (async function* () {
        for (let i = 0; i < n; i++) yield i
      })(),
    )
    let aborted = false
    await server.requests.serve(
      'slow',
      (_d, ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true
            reject(ctx.signal.reason)
          })
        }),
    )
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => caller.requests.call('add', { a: i, b: 1 })),
    )
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    const items: number[] = []
    for await (const v of caller.requests.stream<number>('count', 600, { window: 16 })) items.push(v)
    expect(items).toEqual(Array.from({ length: 600 }, (_, i) => i))
    const ac = new AbortController()
    const slow = caller.requests.call('slow', null, { signal: ac.signal, timeout: 30_000 })
    await new Promise((r) => setTimeout(r, 100))
    ac.abort()
    await expect(slow).rejects.toThrow(/abort/i)
    await new Promise((r) => setTimeout(r, 100))
    expect(aborted).toBe(true)
    expect(hub.stats().dispatched).toBe(0)
    // The direct listener is a 0600 unix socket next to the hub's.
    const [direct] = directSockets(dir)
    expect(statSync(direct as string).mode & 0o777).toBe(0o600)
    // With the direct path turned off, the same call goes through the hub (the counter counts).
    const viaHub = await bus(`unix://${sock}?direct=0`)
    expect(await viaHub.requests.call('add', { a: 2, b: 2 })).toBe(4)
    expect(hub.stats().dispatched).toBe(1)
  })

  it('a server that stops serving sends later direct requests back through the hub: NoHandlerError', async () => {
    const { sock } = await hubIn()
    const server = await bus(`unix://${sock}`)
    const caller = await bus(`unix://${sock}`)
    const serving = await server.requests.serve('m', () => 1)
    expect(await caller.requests.call('m')).toBe(1)
    await serving.close()
    await expect(caller.requests.call('m')).rejects.toThrow(NoHandlerError)
    await server.close()
    await expect(caller.requests.call('m')).rejects.toThrow(NoHandlerError)
  })

  it('a call in flight on a direct link fails with ConnectionError as soon as the server process is SIGKILLed', async () => {
    const { sock, hub } = await hubIn()
    const child = spawnTs(serverFixture, [`unix://${sock}`])
    stops.push(() => child.kill('SIGKILL'))
    await child.waitForLine('server ready')
    const caller = await bus(`unix://${sock}`)
    expect(await caller.requests.call('echo', 'hi')).toBe('hi')
    // A timeout far beyond the test's own: only the lost link can fail this call in time.
    const pending = caller.requests.call('hang', 1, { timeout: 120_000 })
    pending.catch(() => {})
    await child.waitForLine('got hang 1')
    await child.kill('SIGKILL')
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConnectionError)
    expect(hub.stats().dispatched).toBe(0)
    // The caller keeps working, and learns the server is gone.
    await expect(caller.requests.call('echo', 'again')).rejects.toThrow(NoHandlerError)
    // The dead server's socket file stays behind until the next server next to the hub clears it.
    const dir = join(sock, '..')
    expect(directSockets(dir)).toHaveLength(1)
    const next = await bus(`unix://${sock}`)
    await next.requests.serve('echo', (d) => d)
    expect(directSockets(dir)).toHaveLength(1)
    expect(await caller.requests.call('echo', 'new')).toBe('new')
  }, 20_000)

  it('falls back to the hub when the direct endpoint refuses the connection', async () => {
    const { sock, dir, hub } = await hubIn()
    const server = await bus(`unix://${sock}`)
    await server.requests.serve('add', (d: { a: number; b: number }) => d.a + d.b)
    // Nothing listens at the advertised endpoint any more: connecting fails with ENOENT.
    for (const f of directSockets(dir)) unlinkSync(f)
    const caller = await bus(`unix://${sock}`)
    expect(await Promise.all([1, 2, 3].map((a) => caller.requests.call('add', { a, b: 10 })))).toEqual([
      11, 12, 13,
    ])
    expect(hub.stats().dispatched).toBe(3)
  })

  it('the direct listener refuses a connection without the hub token and anything before authentication', async () => {
    const { sock, dir, hub } = await hubIn('?token=s3cret')
    const server = await bus(`unix://${sock}?token=s3cret`)
    let handled = 0
    await server.requests.serve('m', () => ++handled)
    const caller = await bus(`unix://${sock}?token=s3cret`)
    expect(await caller.requests.call('m')).toBe(1)
    expect(hub.stats().dispatched).toBe(0)
    const [direct] = directSockets(dir)
    // No proof of the token: refused with an auth failure, and the connection is closed.
    const noToken = await rawConnect(direct as string)
    const hello = await waitFrame(noToken.frames, T.Hello)
    expect(hello[3]).toBe(true)
    noToken.send([T.Auth, PROTOCOL_VERSION, null, 'intruder', null, null])
    await noToken.closed
    expect(noToken.frames.find((f) => f[0] === T.Fail)?.[2]).toBe(ErrorCode.Auth)
    // A request before authenticating is not handled either.
    const early = await rawConnect(direct as string)
    early.send([T.Request, 1, 1, new Uint8Array([0x90])])
    await early.closed
    expect(handled).toBe(1)
  })
})

async function waitFrame(frames: unknown[][], type: number): Promise<unknown[]> {
  const end = Date.now() + 5000
  for (;;) {
    const f = frames.find((x) => x[0] === type)
    if (f) return f
    if (Date.now() > end) throw new Error(`no frame of type ${type}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
