/**
 * compat 'rpc-over-redis': a plain Redis client speaks the Python library's wire format to a unipc
 * server (XADD a request exactly as the Python client does, SUBSCRIBE to the reply channel), and a
 * unipc client calls a server driven by hand in that format.
 */
import { randomUUID } from 'node:crypto'
import {
  type Bus,
  connect,
  NoHandlerError,
  RemoteError,
  SchemaMismatchError,
  TimeoutError,
} from '@unipc/core'
import { startRedis, type TestRedis, waitFor } from '@unipc/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createClient,
  defineError,
  defineService,
  rpcOverRedis,
  type ServiceServer,
  serve,
  t,
} from '../../src/index.js'

const Student = t.model('Student', {
  id: t.string(),
  name: t.string(),
  age: t.uint8(),
  nick: t.optional(t.string()),
})
const StudentNotFound = defineError(
  'StudentNotFound',
  { id: t.string() },
  { message: (f) => `no student ${f.id}` },
)
const SmartSchool = defineService({
  name: 'SmartSchool',
  version: '1.0.0',
  methods: {
    get: { params: t.object({ id: t.string() }), result: Student, errors: [StudentNotFound] },
    add: { params: t.object({ a: t.int32(), b: t.int32() }), result: t.int32() },
    crash: {},
    echo: { params: t.object({ text: t.optional(t.string()) }), result: t.optional(t.string()) },
    tick: { result: t.uint32(), stream: true },
  },
})

const hex = (): string => randomUUID().replace(/-/g, '')
const STREAM = '/rpc-over-redis/request/SmartSchool'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis({ port: false })
})
afterAll(async () => {
  await redis?.stop()
})

describe('a unipc server in rpc-over-redis format, called like the Python client', () => {
  let bus: Bus
  let server: ServiceServer
  let server2: ServiceServer
  let cmd: Redis
  let sub: Redis
  const client = hex()
  const replies = new Map<string, Record<string, unknown>>()
  const calls = { A: 0, B: 0 }

  const impl = (name: 'A' | 'B') => ({
    get({ id }: { id: string }) {
      calls[name]++
      if (id === 'missing') throw new StudentNotFound({ id })
      return { id, name: `student ${id}`, age: 20 }
    },
    add: ({ a, b }: { a: number; b: number }) => a + b,
    crash(): void {
      throw new TypeError('it broke')
    },
    echo: ({ text }: { text?: string }) => text,
    *tick() {
      yield 1
    },
  })

  beforeAll(async () => {
    bus = await connect(redis.unixUrl, { component: 'school' })
    server = await serve(bus, SmartSchool, impl('A'), { compat: 'rpc-over-redis' })
    server2 = await serve(bus, SmartSchool, impl('B'), { compat: 'rpc-over-redis' })
    cmd = new Redis({ path: redis.socketPath })
    sub = new Redis({ path: redis.socketPath })
    sub.on('message', (channel: string, text: string) => {
      expect(channel).toBe(`/rpc-over-redis/responce/${client}`)
      const reply = JSON.parse(text) as Record<string, unknown>
      replies.set(String(reply.request).replace(/-/g, ''), reply)
    })
    await sub.subscribe(`/rpc-over-redis/responce/${client}`)
  })
  afterAll(async () => {
    await server?.close()
    await server2?.close()
    await bus?.close()
    cmd?.disconnect()
    sub?.disconnect()
  })

  /** XADDs exactly what the Python client's json.dumps writes, and waits for the reply. */
  async function call(method: string, args: unknown[], kwargs: Record<string, unknown> = {}) {
    const request = hex()
    const data = `{"protocol": 1, "method": ${JSON.stringify(method)}, "params": {"args": ${JSON.stringify(args)}, "kwargs": ${JSON.stringify(kwargs)}}, "request": "${request}", "client": "${client}"}`
    await cmd.xadd(STREAM, '*', 'data', data)
    return (await waitFor(() => replies.get(request))) as Record<string, unknown>
  }

  it('creates the generic consumer group on the request stream', async () => {
    await call('add', [1, 2])
    const groups = (await cmd.xinfo('GROUPS', STREAM)) as unknown[][]
    expect(groups.map((g) => g[1])).toEqual(['generic'])
  })

  it('replies with the result, positional or keyword arguments', async () => {
    const r = await call('get', ['42'])
    expect(Object.keys(r)).toEqual(['protocol', 'request', 'result', 'error'])
    expect(r.protocol).toBe(1)
    expect(r.request).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(r.result).toEqual({ id: '42', name: 'student 42', age: 20 })
    expect(r.error).toBeNull()
    expect((await call('add', [2], { b: 40 })).result).toBe(42)
    expect((await call('echo', [], { text: null })).result).toBeNull()
    expect((await call('echo', ['hi'])).result).toBe('hi')
  })

  it('answers _rpc_schema_ with Python type names', async () => {
    const r = await call('_rpc_schema_', [], {})
    expect(r.error).toBeNull()
    expect(r.result).toEqual({
      force_strict_validate_schema: false,
      types: {
        get: { id: 'builtins/str', return: 'builtins/dict' },
        add: { a: 'builtins/int', b: 'builtins/int', return: 'builtins/int' },
        crash: { return: 'builtins/NoneType' },
        echo: { text: 'types/UnionType', return: 'types/UnionType' },
      },
    })
  })

  it('sends error objects for raised, declared and unknown-method errors', async () => {
    expect((await call('crash', [])).error).toEqual({
      type: 'RPCExecutionError',
      message: 'it broke',
      parent_exception: { type: 'TypeError', message: ['it broke'] },
      arg: ['it broke'],
    })
    expect((await call('get', ['missing'])).error).toEqual({
      type: 'RPCExecutionError',
      message: 'no student missing',
      parent_exception: { type: 'StudentNotFound', message: ['no student missing'], data: { id: 'missing' } },
      arg: ['no student missing'],
    })
    expect((await call('nope', [])).error).toEqual({
      type: 'RPCImplementationError',
      message: "method 'nope' not registered",
      parent_exception: null,
      arg: ["method 'nope' not registered"],
    })
  })

  it('answers malformed requests with an error and keeps serving', async () => {
    const bad = async (data: string): Promise<Record<string, unknown>> => {
      const request = hex()
      await cmd.xadd(STREAM, '*', 'data', data.replaceAll('$REQ', request).replaceAll('$CLIENT', client))
      return (await waitFor(() => replies.get(request))) as Record<string, unknown>
    }
    const proto = await bad(
      '{"protocol": 2, "method": "add", "params": {"args": [], "kwargs": {}}, "request": "$REQ", "client": "$CLIENT"}',
    )
    expect(proto.error).toMatchObject({
      type: 'RPCImplementationError',
      message: 'message.protocol (2) != 1',
    })
    const noParams = await bad('{"protocol": 1, "method": "add", "request": "$REQ", "client": "$CLIENT"}')
    expect(noParams.error).toMatchObject({ type: 'RPCImplementationError' })
    const wrongType = await call('add', ['x', 1])
    expect(wrongType.error).toMatchObject({
      type: 'RPCExecutionError',
      parent_exception: { type: 'ValueError' },
    })
    expect((wrongType.error as { message: string }).message).toContain('params.a')
    const tooMany = await call('add', [1, 2, 3])
    expect(tooMany.error).toMatchObject({ parent_exception: { type: 'TypeError' } })
    const unknownKw = await call('add', [1], { c: 2 })
    expect((unknownKw.error as { message: string }).message).toContain("unexpected keyword argument 'c'")
    const stream = await call('tick', [])
    expect(stream.error).toMatchObject({ type: 'RPCImplementationError' })
    // Entries no reply can be addressed for: not JSON, no data field, no client.
    await cmd.xadd(STREAM, '*', 'data', 'not json {')
    await cmd.xadd(STREAM, '*', 'other', 'x')
    await cmd.xadd(
      STREAM,
      '*',
      'data',
      '{"protocol": 1, "method": "add", "params": {"args": [1, 2], "kwargs": {}}}',
    )
    // …and the servers still answer.
    expect((await call('add', [20, 22])).result).toBe(42)
  })

  it('shares requests between the two instances', async () => {
    const before = { ...calls }
    await Promise.all(Array.from({ length: 60 }, (_, i) => call('get', [String(i)])))
    expect(calls.A - before.A + calls.B - before.B).toBe(60)
    expect(calls.A).toBeGreaterThan(before.A)
    expect(calls.B).toBeGreaterThan(before.B)
    // Each instance reads as its own consumer, named by a uuid hex like the Python server's.
    const consumers = (await cmd.xinfo('CONSUMERS', STREAM, 'generic')) as unknown[][]
    expect(consumers.length).toBe(2)
    for (const c of consumers) expect(String(c[1])).toMatch(/^[0-9a-f]{32}$/)
  })
})

describe('a unipc client calling a server driven by hand in rpc-over-redis format', () => {
  let reader: Redis
  let writer: Redis
  let stop = false
  let loop: Promise<void>
  const seen: Array<Record<string, unknown>> = []
  let schemaTypes: Record<string, Record<string, string>> = {
    get: { id: 'builtins/str', return: 'builtins/dict' },
    add: { a: 'builtins/int', b: 'builtins/int', return: 'builtins/int' },
    crash: { return: 'builtins/NoneType' },
  }
  let forceStrict = false

  beforeAll(async () => {
    reader = new Redis({ path: redis.socketPath })
    writer = new Redis({ path: redis.socketPath })
    const stream = '/rpc-over-redis/request/HandSchool'
    await reader.xgroup('CREATE', stream, 'generic', '$', 'MKSTREAM')
    const consumer = hex()
    loop = (async () => {
      while (!stop) {
        const res = (await reader
          .xreadgroup('GROUP', 'generic', consumer, 'COUNT', 1, 'BLOCK', 200, 'NOACK', 'STREAMS', stream, '>')
          .catch(() => null)) as [string, [string, string[]][]][] | null
        for (const [, entries] of res ?? []) {
          for (const [, fields] of entries) {
            const msg = JSON.parse(fields[1] as string) as {
              method: string
              params: { args: unknown[]; kwargs: Record<string, unknown> }
              request: string
              client: string
            }
            seen.push(msg)
            const u = msg.request
            const dashed = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`
            const reply = (result: unknown, error: unknown = null) =>
              writer.publish(
                `/rpc-over-redis/responce/${msg.client}`,
                JSON.stringify({ protocol: 1, request: dashed, result, error }),
              )
            const { args, kwargs } = msg.params
            if (msg.method === '_rpc_schema_')
              await reply({ force_strict_validate_schema: forceStrict, types: schemaTypes })
            else if (msg.method === 'get')
              await reply({ id: kwargs.id ?? args[0], name: 'by hand', age: 30, nick: null })
            else if (msg.method === 'add')
              await reply(Number(kwargs.a ?? args[0]) + Number(kwargs.b ?? args[1]))
            else if (msg.method === 'crash')
              await reply(null, {
                type: 'RPCExecutionError',
                message: 'bad value',
                parent_exception: { type: 'ValueError', message: ['bad value'] },
                arg: ['bad value'],
              })
            else if (msg.method === 'slow') {
              // never answers
            } else
              await reply(null, {
                type: 'RPCImplementationError',
                message: `method '${msg.method}' not registered`,
                parent_exception: null,
                arg: [`method '${msg.method}' not registered`],
              })
          }
        }
      }
    })()
  })
  afterAll(async () => {
    stop = true
    await loop
    reader?.disconnect()
    writer?.disconnect()
  })

  const HandSchool = defineService({
    name: 'HandSchool',
    methods: {
      get: { params: t.object({ id: t.string() }), result: Student },
      add: { params: t.object({ a: t.int32(), b: t.int32() }), result: t.int32() },
      crash: {},
      missing: {},
      slow: {},
    },
  })

  it('calls methods and gets typed results (None becomes an absent optional)', async () => {
    const client = rpcOverRedis.createRpcOverRedisClient(
      rpcOverRedis.connectionFactory(redis.unixUrl),
      HandSchool,
      { arguments: 'kwargs' },
    )
    try {
      expect(await client.get({ id: '7' })).toEqual({ id: '7', name: 'by hand', age: 30, nick: undefined })
      expect(await client.add({ a: 2, b: 3 })).toBe(5)
      const wire = seen.find((m) => m.method === 'add') as {
        params: unknown
        client: string
        request: string
      }
      expect(wire.params).toEqual({ args: [], kwargs: { a: 2, b: 3 } })
      expect(wire.client).toMatch(/^[0-9a-f]{32}$/)
      expect(wire.request).toMatch(/^[0-9a-f]{32}$/)
      expect(seen[0]?.method).toBe('_rpc_schema_')
    } finally {
      await client.$close()
    }
  })

  it('maps error replies: RemoteError, NoHandlerError, timeout', async () => {
    const bus = await connect(redis.unixUrl, { component: 'hand-client' })
    const client = createClient(bus, HandSchool, {
      compat: 'rpc-over-redis',
      rpcOverRedis: { arguments: 'args', timeout: 300 },
    })
    try {
      const err = await client.crash().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RemoteError)
      expect(err).toMatchObject({ name: 'ValueError', message: 'bad value', code: 'RPC_EXECUTION_ERROR' })
      await expect(client.missing()).rejects.toBeInstanceOf(NoHandlerError)
      await expect(client.slow()).rejects.toBeInstanceOf(TimeoutError)
      expect(await client.add({ a: 1, b: 1 })).toBe(2)
      expect(seen.at(-1)?.params).toEqual({ args: [1, 1], kwargs: {} })
    } finally {
      await client.$close()
      await bus.close()
    }
  })

  it('checks _rpc_schema_: strict mode (or a server forcing it) fails mismatched methods by name and argument', async () => {
    schemaTypes = { ...schemaTypes, add: { a: 'builtins/int', c: 'builtins/str', return: 'builtins/int' } }
    const strict = rpcOverRedis.createRpcOverRedisClient(
      rpcOverRedis.connectionFactory(redis.unixUrl),
      HandSchool,
      { schema: 'strict' },
    )
    const lenient = rpcOverRedis.createRpcOverRedisClient(
      rpcOverRedis.connectionFactory(redis.unixUrl),
      HandSchool,
      {},
    )
    try {
      const err = await strict.add({ a: 1, b: 2 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SchemaMismatchError)
      expect((err as SchemaMismatchError).differences).toEqual([
        'method add: params.b: the server has no such argument',
        'method add: params.c: the client does not send this argument',
      ])
      expect((await strict.get({ id: '1' })).name).toBe('by hand')
      expect(await lenient.add({ a: 1, b: 2 })).toBe(3)
      forceStrict = true
      const forced = rpcOverRedis.createRpcOverRedisClient(
        rpcOverRedis.connectionFactory(redis.unixUrl),
        HandSchool,
        {},
      )
      await expect(forced.add({ a: 1, b: 2 })).rejects.toBeInstanceOf(SchemaMismatchError)
      await forced.$close()
    } finally {
      forceStrict = false
      await strict.$close()
      await lenient.$close()
    }
  })
})
