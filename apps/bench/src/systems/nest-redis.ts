/**
 * Peer: NestJS microservices 11 with its Redis transport (`ServerRedis` / `ClientRedis`, the classes
 * `Transport.REDIS` builds), on the run's redis-server over its unix socket, default JSON
 * serializer (payloads travel as latin1 strings of the same length): `send` for requests (pub/sub
 * with a `.reply` channel), `emit` for fan-out. Issue #5 names it beside moleculer-redis.
 * The transport classes are used without a Nest application module: that is the code a
 * `@MessagePattern` / `@EventPattern` controller runs on, without the decorator wiring.
 * @module
 */
import type { Closable, RoleContext, System } from '../types.js'

interface NestRedisConfig {
  /** Unix socket path of the run's redis-server. */
  readonly socket: string
}

// Minimal typing of what is used.
interface Server {
  addHandler(pattern: string, handler: (data: unknown) => unknown, isEvent?: boolean): void
  listen(cb: (err?: unknown) => void): void
  close(): Promise<void> | void
}
interface Observer {
  next?(v: unknown): void
  error?(e: unknown): void
  complete?(): void
}
interface Client {
  connect(): Promise<unknown>
  send(pattern: string, data: unknown): { subscribe(o: Observer): unknown }
  emit(pattern: string, data: unknown): { subscribe(o: Observer): unknown }
  close(): Promise<void> | void
}

const latin1 = (p: Uint8Array): string => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')

async function nest(): Promise<{
  ServerRedis: new (o: unknown) => Server
  ClientRedis: new (o: unknown) => Client
}> {
  await import('reflect-metadata')
  return (await import('@nestjs/microservices')) as never
}

async function server(config: NestRedisConfig, setup: (s: Server) => void): Promise<Closable> {
  const { ServerRedis } = await nest()
  const s = new ServerRedis({ path: config.socket })
  setup(s)
  await new Promise<void>((resolve, reject) => s.listen((err) => (err ? reject(err) : resolve())))
  return { close: () => s.close() }
}

async function client(config: NestRedisConfig): Promise<Client> {
  const { ClientRedis } = await nest()
  const c = new ClientRedis({ path: config.socket })
  await c.connect()
  return c
}

const names = (ctx: RoleContext) => ({ echo: `bench.echo.${ctx.runId}`, events: `bench.ev.${ctx.runId}` })

const nestRedis: System<NestRedisConfig> = {
  name: 'nest-redis',
  group: 'peer',
  link: 'redis-unix',
  description:
    'NestJS microservices 11, Redis transport (ServerRedis/ClientRedis over ioredis, unix socket), JSON serializer: send for requests, emit for fan-out',
  packages: ['@nestjs/microservices'],
  scenarios: {
    rtt: true,
    throughput: true,
    fanout: true,
    large: true,
    stream: 'the Redis transport has no flow-controlled stream',
    queue: 'the Redis transport has no work queue: every server subscribed to a pattern gets every message',
  },
  async setup(env) {
    await nest()
    const r = await env.redis()
    return { socket: r.socket }
  },
  preload: () => nest(),
  echoServer: (config, ctx) => server(config, (s) => s.addHandler(names(ctx).echo, (data) => data)),
  async caller(config, ctx) {
    const c = await client(config)
    const pattern = names(ctx).echo
    return {
      call: (payload) =>
        new Promise((resolve, reject) => {
          c.send(pattern, latin1(payload)).subscribe({ next: resolve, error: reject })
        }),
      close: () => c.close(),
    }
  },
  async publisher(config, ctx) {
    const c = await client(config)
    const pattern = names(ctx).events
    return {
      publish: (payload) =>
        new Promise<void>((resolve, reject) => {
          // emit is cold: it publishes on subscribe and completes after Redis answered.
          c.emit(pattern, latin1(payload)).subscribe({ error: reject, complete: resolve })
        }),
      close: () => c.close(),
    }
  },
  subscriber: (config, ctx, onEvent) =>
    server(config, (s) =>
      s.addHandler(names(ctx).events, (data) => onEvent(Buffer.from(data as string, 'latin1')), true),
    ),
}

/** NestJS microservices over Redis (unix socket). */
export const systems: System[] = [nestRedis as System]
