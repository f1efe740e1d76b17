/**
 * The schema check between real clients and servers (memory transport: the check is transport-independent),
 * including rolling upgrades where v1 and v2 servers and clients run side by side.
 */
import {
  AbortError,
  type Bus,
  connect,
  type Logger,
  RemoteError,
  SchemaMismatchError,
  TimeoutError,
} from '@unipc/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient, defineService, type ServiceServer, serve, t } from '../../src/index.js'
import { type TransportEnv, transports } from './transports.js'

const StudentV1 = t.model('Student', { id: t.string(), name: t.string() })
const StudentV2 = t.model('Student', { id: t.string(), name: t.string(), email: t.optional(t.string()) })

const V1 = defineService({
  name: 'upg.School',
  version: '1.0.0',
  methods: {
    get: { params: t.object({ id: t.string() }), result: StudentV1 },
    list: { params: t.object({ n: t.uint32() }), result: StudentV1, stream: true },
  },
})
// Compatible: an added optional parameter, an added optional result field, an added method.
const V2 = defineService({
  name: 'upg.School',
  version: '2.0.0',
  methods: {
    get: { params: t.object({ id: t.string(), verbose: t.optional(t.bool()) }), result: StudentV2 },
    list: { params: t.object({ n: t.uint32() }), result: StudentV2, stream: true },
    count: { result: t.uint32() },
  },
})
// Incompatible: get's id became a number.
const V3 = defineService({
  name: 'upg.School',
  version: '3.0.0',
  methods: {
    get: { params: t.object({ id: t.int32() }), result: StudentV2 },
    list: { params: t.object({ n: t.uint32() }), result: StudentV2, stream: true },
  },
})

const impl = (version: string) => ({
  get: ({ id }: { id: unknown }) => ({ id: String(id), name: `v${version}`, email: 'x@y' }),
  *list({ n }: { n: number }) {
    for (let i = 0; i < n; i++) yield { id: String(i), name: `v${version}` }
  },
  count: () => 7,
})

function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = []
  const rec = (level: string) => (msg: string) => void lines.push([level, msg])
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') }
}

let world = 0
const buses: Bus[] = []
const servers: ServiceServer[] = []
async function bus(url: string): Promise<Bus> {
  const b = await connect(url, { component: `c${buses.length}` })
  buses.push(b)
  return b
}
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()))
  await Promise.allSettled(buses.splice(0).map((b) => b.close()))
})

describe('schema check', () => {
  it('goes ahead silently when fingerprints are equal', async () => {
    const url = `memory://schema-${++world}`
    servers.push(await serve(await bus(url), V1, impl('1')))
    const log = recordingLogger()
    const client = createClient(await bus(url), V1, { logger: log })
    expect(await client.get({ id: 'a' })).toEqual({ id: 'a', name: 'v1', email: 'x@y' })
    const r = await client.$checkSchema()
    expect(r?.comparison.equal).toBe(true)
    expect(log.lines).toEqual([])
  })

  it('goes ahead with a debug note on compatible differences', async () => {
    const url = `memory://schema-${++world}`
    servers.push(await serve(await bus(url), V2, impl('2')))
    const log = recordingLogger()
    const client = createClient(await bus(url), V1, { logger: log })
    expect((await client.get({ id: 'a' })).name).toBe('v2')
    expect(log.lines.filter(([l]) => l !== 'debug')).toEqual([])
    const note = log.lines.find(([l]) => l === 'debug')?.[1] ?? ''
    expect(note).toContain('method count: only the server has this method')
    expect(note).toContain('method get: params.verbose: optional field only the server has')
  })

  it('fails calls to an incompatible method with SchemaMismatchError naming method and field (strict)', async () => {
    const url = `memory://schema-${++world}`
    servers.push(await serve(await bus(url), V3, impl('3')))
    const client = createClient(await bus(url), V2)
    const err = await client.get({ id: 'a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SchemaMismatchError)
    expect((err as SchemaMismatchError).differences).toContain(
      'method get: params.id: client sends string, server expects int32',
    )
    expect((err as Error).message).toContain('method get: params.id')
    // Methods without incompatible differences still work.
    const items: string[] = []
    for await (const s of client.list({ n: 2 })) items.push(s.name)
    expect(items).toEqual(['v3', 'v3'])
    await expect(client.$checkSchema()).rejects.toThrow(SchemaMismatchError)
  })

  it('only warns in lenient mode, and the call goes to the server', async () => {
    const url = `memory://schema-${++world}`
    servers.push(await serve(await bus(url), V3, impl('3')))
    const log = recordingLogger()
    const client = createClient(await bus(url), V2, { schema: 'lenient', logger: log })
    const err = await client.get({ id: 'a' }).catch((e: unknown) => e)
    // The v3 server's own validation rejects the string id.
    expect(err).toBeInstanceOf(RemoteError)
    expect(err).toMatchObject({ code: 'UNIPC_VALIDATION' })
    const warnings = log.lines.filter(([l]) => l === 'warn').map(([, m]) => m)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('method get: params.id: client sends string, server expects int32')
  })

  it("bounds a first call's wait for a slow schema check by the call's own timeout and signal", async () => {
    const url = `memory://schema-${++world}`
    const server = await bus(url)
    // A server whose _schema answer is slow: the first call must not wait longer than its timeout.
    await server.requests.serve('upg.School._schema', async () => {
      await new Promise((r) => setTimeout(r, 2000))
      return { name: V1.name, version: V1.version, fingerprint: V1.fingerprint, canonical: V1.canonical }
    })
    await server.requests.serve('upg.School.get', ({ id }: { id: string }) => ({ id, name: 'x' }))
    const client = createClient(await bus(url), V1)
    const err = await client.get({ id: 'a' }, { timeout: 200 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect((err as Error).message).toContain("schema check of 'upg.School'")
    const ac = new AbortController()
    const aborted = client.get({ id: 'a' }, { signal: ac.signal }).catch((e: unknown) => e)
    ac.abort()
    expect(await aborted).toBeInstanceOf(AbortError)
    // Once the check is done, calls go straight through.
    expect(await client.get({ id: 'b' }, { timeout: 5000 })).toEqual({ id: 'b', name: 'x' })
  })
})

for (const tc of transports) {
  describe.skipIf(tc.skip !== undefined)(
    `rolling upgrade over ${tc.name}${tc.skip ? ` (skipped: ${tc.skip})` : ''}`,
    () => {
      let env: TransportEnv
      beforeAll(async () => {
        env = await tc.start()
      })
      afterAll(async () => {
        await Promise.allSettled(servers.splice(0).map((s) => s.close()))
        await env?.close()
      })

      it('survives a rolling upgrade: v1 and v2 servers and clients side by side', async () => {
        const v1a = await serve(await env.connect(`c${++world}`), V1, impl('1'))
        const v1b = await serve(await env.connect(`c${++world}`), V1, impl('1'))
        servers.push(v1a, v1b)
        const oldClient = createClient(await env.connect(`c${++world}`), V1)
        const newClient = createClient(await env.connect(`c${++world}`), V2)
        const round = async (): Promise<Set<string>> => {
          const seen = new Set<string>()
          for (let i = 0; i < 40; i++) {
            seen.add((await oldClient.get({ id: String(i) })).name)
            seen.add((await newClient.get({ id: String(i), verbose: true })).name)
            for await (const s of oldClient.list({ n: 1 })) seen.add(s.name)
          }
          return seen
        }
        expect(await round()).toEqual(new Set(['v1']))
        // Upgrade one instance: both versions serve at once.
        await v1b.close()
        servers.push(await serve(await env.connect(`c${++world}`), V2, impl('2')))
        expect(await round()).toEqual(new Set(['v1', 'v2']))
        // The new method is routed to the v2 instance only, whichever instance answered the schema check.
        expect(await newClient.count()).toBe(7)
        // Finish the upgrade.
        await v1a.close()
        servers.push(await serve(await env.connect(`c${++world}`), V2, impl('2')))
        expect(await round()).toEqual(new Set(['v2']))
        const late = createClient(await env.connect(`c${++world}`), V1)
        expect((await late.$checkSchema())?.comparison.incompatible).toEqual([])
      })
    },
  )
}
