/**
 * Methods whose parameters are one binary field (`{ data: t.binary() }`) are also served at
 * `<method>#bytes`, which takes the bytes alone; clients that learn of it from the schema check send
 * such calls there. Shown here: the same results and checks either way, on every transport (Redis
 * keeps maps only), and the fallbacks: other parameter shapes, older servers, a bytes method gone.
 */
import { Buffer } from 'node:buffer'
import { type Bus, connect, RemoteError, ValidationError } from '@unipc/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  BYTES_SUFFIX,
  bytesParamsField,
  createClient,
  defineService,
  type ServiceServer,
  serve,
  t,
} from '../../src/index.js'
import { type TransportEnv, transports } from './transports.js'

const Echo = defineService({
  name: 'bytes.Echo',
  methods: {
    echo: { params: t.object({ data: t.binary() }), result: t.binary() },
    size: { params: t.object({ data: t.binary() }), result: t.uint32() },
    pair: { params: t.object({ data: t.binary(), tag: t.string() }), result: t.string() },
    items: { params: t.object({ data: t.binary() }), result: t.uint8(), stream: true },
  },
})

/** The implementation; `seen` collects what `size` was called with. */
function echoImpl(seen: unknown[]) {
  return {
    echo: ({ data }: { data: Uint8Array }) => data,
    size: (params: { data: Uint8Array }) => {
      seen.push(params)
      return params.data.length
    },
    pair: ({ tag }: { tag: string }) => tag,
    items: ({ data }: { data: Uint8Array }) => [...data],
  }
}

describe('bytesParamsField', () => {
  it('names the one binary field of unary methods only', () => {
    const m = (name: string) => Echo.methods.get(name)!
    expect(bytesParamsField(m('echo'))).toBe('data')
    expect(bytesParamsField(m('pair'))).toBeUndefined()
    expect(bytesParamsField(m('items'))).toBeUndefined()
  })
})

for (const tc of transports) {
  describe.skipIf(tc.skip !== undefined)(`bytes parameters over ${tc.name}`, () => {
    let env: TransportEnv
    let serverBus: Bus
    let clientBus: Bus
    let server: ServiceServer
    const seen: unknown[] = []
    // Redis serves every method as a stream with a consumer group: no second method there.
    const bytesMethod = tc.name !== 'redis'

    beforeAll(async () => {
      env = await tc.start()
      serverBus = await env.connect('bytes-server')
      clientBus = await env.connect('bytes-client')
      server = await serve(serverBus, Echo, echoImpl(seen))
    })
    afterAll(async () => {
      await server?.close()
      await env?.close()
    })

    it('advertises the bytes method in the schema reply where it serves one', async () => {
      const info = (await clientBus.requests.call('bytes.Echo._schema', {})) as {
        bytesParams: Record<string, string>
      }
      expect(info.bytesParams).toEqual(bytesMethod ? { echo: 'data', size: 'data' } : {})
    })

    it('answers typed calls the same: Uint8Array in and out, Buffer in and out, the handler sees { data }', async () => {
      const client = createClient(clientBus, Echo)
      const plain = new Uint8Array([1, 2, 3])
      for (let i = 0; i < 3; i++) {
        const r = await client.echo({ data: plain })
        expect(r).toEqual(plain)
        expect(r.constructor).toBe(Uint8Array)
      }
      const buf = Buffer.from('abc')
      const back = await client.echo({ data: buf })
      expect(Buffer.isBuffer(back)).toBe(true)
      expect(Buffer.from(back).toString()).toBe('abc')
      seen.length = 0
      expect(await client.size({ data: plain })).toBe(3)
      expect(seen).toHaveLength(1)
      expect(seen[0]).toEqual({ data: plain })
      expect(Object.keys(seen[0] as object)).toEqual(['data'])
      expect(await client.pair({ data: plain, tag: 'x' })).toBe('x')
    })

    it.runIf(bytesMethod)('checks a bytes body like the field it stands for', async () => {
      seen.length = 0
      const name = `bytes.Echo.size${BYTES_SUFFIX}`
      expect(await clientBus.requests.call(name, new Uint8Array(5))).toBe(5)
      const err = await clientBus.requests.call(name, 'not bytes').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RemoteError)
      expect(err).toMatchObject({ name: 'ValidationError' })
      expect((err as Error).message).toContain('params.data')
      expect(seen).toHaveLength(1)
    })
  })
}

describe('bytes parameters: which method a client calls', () => {
  const hits: string[] = []
  const buses: Bus[] = []
  /**
   * A bus of its own serving `Echo.echo` by hand (noting which method got each call) and its schema
   * check, with `bytesParams` as given and the bytes method when `bytes`.
   */
  async function fakeServer(advertise: Record<string, string> | undefined, bytes: boolean): Promise<Bus> {
    const bus = await connect(`memory://bytes-params-${buses.length}-${process.pid}`, { component: 'c' })
    buses.push(bus)
    await bus.requests.serve('bytes.Echo._schema', () => ({
      name: Echo.name,
      version: Echo.version,
      fingerprint: Echo.fingerprint,
      canonical: Echo.canonical,
      ...(advertise ? { bytesParams: advertise } : {}),
    }))
    await bus.requests.serve('bytes.Echo.echo', (d: { data: Uint8Array }) => {
      hits.push('map')
      return d.data
    })
    if (bytes)
      await bus.requests.serve(`bytes.Echo.echo${BYTES_SUFFIX}`, (d: Uint8Array) => {
        hits.push('bytes')
        return d
      })
    return bus
  }

  afterEach(async () => {
    hits.length = 0
    await Promise.all(buses.splice(0).map((b) => b.close()))
  })

  it('sends the bytes alone once the server said so, and maps for any other parameter object', async () => {
    const client = createClient(await fakeServer({ echo: 'data' }, true), Echo)
    const data = new Uint8Array([7])
    await client.echo({ data }) // the first call waits for the check and goes as a map
    await client.echo({ data })
    await client.echo({ data, extra: 1 } as { data: Uint8Array })
    await client.echo({ data: [...data] } as unknown as { data: Uint8Array }).catch(() => {})
    await client.echo(Object.assign(Object.create(null), { data }))
    await client.echo({ data })
    expect(hits).toEqual(['map', 'bytes', 'map', 'map', 'bytes'])
  })

  it('sends the bytes alone from a client whose own parameters differ (then they are checked first)', async () => {
    const Wider = defineService({
      name: Echo.name,
      methods: {
        echo: { params: t.object({ data: t.binary(), note: t.optional(t.string()) }), result: t.binary() },
      },
    })
    const client = createClient(await fakeServer({ echo: 'data' }, true), Wider, { schema: 'lenient' })
    const data = new Uint8Array([7])
    await client.echo({ data })
    await client.echo({ data })
    await client.echo({ data, note: 'n' })
    await expect(client.echo({ data, note: 1 } as unknown as { data: Uint8Array })).rejects.toThrow(
      ValidationError,
    )
    const hidden = {}
    Object.defineProperty(hidden, 'data', { value: data, enumerable: false })
    await expect(client.echo(hidden as { data: Uint8Array })).rejects.toThrow()
    expect(hits).toEqual(['map', 'bytes', 'map', 'map'])
  })

  it('keeps to maps with a server that does not advertise the bytes method (an older one)', async () => {
    const client = createClient(await fakeServer(undefined, true), Echo)
    for (let i = 0; i < 3; i++) await client.echo({ data: new Uint8Array([i]) })
    expect(hits).toEqual(['map', 'map', 'map'])
  })

  it('goes back to maps for good after the bytes method has no server, resending that call as a map', async () => {
    const client = createClient(await fakeServer({ echo: 'data' }, false), Echo)
    const data = new Uint8Array([1])
    await client.echo({ data })
    // Sent to the bytes method, which nobody serves (an older server is left): the same call goes
    // again as a map and succeeds; later calls go as maps at once.
    expect(await client.echo({ data: new Uint8Array([2]) })).toEqual(new Uint8Array([2]))
    await client.echo({ data })
    await client.echo({ data })
    expect(hits).toEqual(['map', 'map', 'map', 'map'])
  })

  it('still checks parameters on the client before choosing the method', async () => {
    const client = createClient(await fakeServer({ echo: 'data' }, true), Echo)
    await client.echo({ data: new Uint8Array(1) })
    await expect(client.echo({ data: 'x' as unknown as Uint8Array })).rejects.toThrow(ValidationError)
    expect(hits).toEqual(['map'])
  })
})
