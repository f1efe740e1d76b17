/**
 * Peer: moleculer 0.14 with its TCP transporter (static node list, no UDP discovery) and its Redis
 * transporter (on the run's redis-server, unix socket), default JSON serializer (payloads travel as
 * latin1 strings of the same length): actions for requests, `broadcast` for fan-out, a balanced
 * action over four worker nodes for the queue (moleculer has no durable queue), and a streamed
 * action response for stream.
 * @module
 */
import { scenarioDefs } from '../scenarios.js'
import type { RoleContext, ScenarioName, System } from '../types.js'

interface MolConfig {
  readonly kind: 'tcp' | 'redis'
  /** TCP: first port; node slot i listens on port + i. */
  readonly port?: number
  /** Redis: unix socket path. */
  readonly socket?: string
}

// Minimal typing of what is used; moleculer's own typings pull in every optional transporter.
interface Ctx {
  params: { p?: string } & Record<string, unknown>
}
interface Broker {
  start(): Promise<void>
  stop(): Promise<void>
  createService(schema: Record<string, unknown>): unknown
  call(action: string, params?: unknown): Promise<unknown>
  broadcast(event: string, payload: unknown): void
  waitForServices(names: string[], timeout?: number): Promise<void>
  registry: { getServiceList(o: Record<string, boolean>): { name: string; nodeID: string }[] }
}

const latin1 = (p: Uint8Array): string => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')

/** Node ids and TCP slots: the first role's processes, then the second's. */
function nodeSlot(scenario: ScenarioName, role: string, index: number): { id: string; slot: number } {
  const def = scenarioDefs[scenario]
  const first = def.first.role === role
  return { id: `${role}-${index}`, slot: first ? index : def.first.count + index }
}

async function broker(
  config: MolConfig,
  ctx: RoleContext,
  role: string,
  services: Record<string, unknown>[],
): Promise<Broker> {
  const { ServiceBroker } = (await import('moleculer')) as unknown as {
    ServiceBroker: new (o: unknown) => Broker
  }
  const me = nodeSlot(ctx.scenario, role, ctx.index)
  const def = scenarioDefs[ctx.scenario]
  let transporter: unknown
  if (config.kind === 'tcp') {
    const urls: string[] = []
    for (const r of [def.first, def.second]) {
      for (let i = 0; i < r.count; i++) {
        const n = nodeSlot(ctx.scenario, r.role, i)
        urls.push(`127.0.0.1:${config.port! + n.slot}/${n.id}`)
      }
    }
    // 1 MiB payloads exceed the default 1 MB packet limit.
    transporter = {
      type: 'TCP',
      options: { udpDiscovery: false, urls, gossipPeriod: 1, maxPacketSize: 16 * 1024 * 1024 },
    }
  } else {
    transporter = { type: 'Redis', options: { path: config.socket } }
  }
  const b = new ServiceBroker({
    nodeID: me.id,
    namespace: ctx.runId,
    transporter,
    logger: false,
    requestTimeout: 0,
  })
  for (const s of services) b.createService(s)
  await b.start()
  return b
}

/** A broker that only serves (the harness just closes it). */
const serving = async (b: Promise<Broker>) => {
  const broker = await b
  return { close: () => broker.stop() }
}

/** Waits until `count` nodes offer service `name`. */
async function waitForNodes(b: Broker, name: string, count: number): Promise<void> {
  await b.waitForServices([name], 20_000)
  const deadline = Date.now() + 20_000
  for (;;) {
    const n = b.registry
      .getServiceList({ onlyAvailable: true, skipInternal: true })
      .filter((s) => s.name === name).length
    if (n >= count) return
    if (Date.now() > deadline) throw new Error(`only ${n} of ${count} '${name}' nodes were discovered`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function moleculerSystem(kind: 'tcp' | 'redis'): System<MolConfig> {
  return {
    name: `moleculer ${kind}`,
    group: 'peer',
    link: kind === 'tcp' ? 'tcp' : 'redis-unix',
    description: `moleculer 0.14, ${kind === 'tcp' ? 'TCP transporter (static node list)' : 'Redis transporter (unix socket)'}, JSON serializer`,
    packages: ['moleculer', ...(kind === 'redis' ? ['ioredis'] : [])],
    scenarios: { rtt: true, throughput: true, fanout: true, stream: true, large: true, queue: true },
    async setup(env) {
      await import('moleculer')
      if (kind === 'tcp') return { kind, port: await env.freePortRange(5) }
      return { kind, socket: (await env.redis()).socket }
    },
    preload: () => import('moleculer'),
    echoServer: (config, ctx) =>
      serving(
        broker(config, ctx, 'echoServer', [{ name: 'echo', actions: { echo: (c: Ctx) => c.params.p } }]),
      ),
    async caller(config, ctx) {
      const b = await broker(config, ctx, 'caller', [])
      await waitForNodes(b, 'echo', 1)
      return { call: (payload) => b.call('echo.echo', { p: latin1(payload) }), close: () => b.stop() }
    },
    async publisher(config, ctx) {
      const b = await broker(config, ctx, 'publisher', [])
      return { publish: (payload) => b.broadcast('bench.ev', latin1(payload)), close: () => b.stop() }
    },
    subscriber: (config, ctx, onEvent) =>
      serving(
        broker(config, ctx, 'subscriber', [
          // One service name per subscriber: broadcast reaches every service instance.
          {
            name: `sub${ctx.index}`,
            events: {
              // moleculer 0.14 passes the payload itself to a one-argument handler (a context otherwise).
              'bench.ev': (p: string | Ctx) =>
                onEvent(Buffer.from(typeof p === 'string' ? p : (p.params as unknown as string), 'latin1')),
            },
          },
        ]),
      ),
    async streamServer(config, ctx, payload) {
      const { Readable } = await import('node:stream')
      const chunk = Buffer.from(payload)
      return serving(
        broker(config, ctx, 'streamServer', [
          {
            name: 'stream',
            actions: {
              // A readable stream response: moleculer sends its chunks over the transporter as the
              // stream is read, pausing with the stream's backpressure.
              open: () =>
                new Readable({
                  highWaterMark: 64 * 1024,
                  read() {
                    while (this.push(chunk)) {}
                  },
                }),
            },
          },
        ]),
      )
    },
    async streamClient(config, ctx, onEvent) {
      const b = await broker(config, ctx, 'streamClient', [])
      await waitForNodes(b, 'stream', 1)
      const s = (await b.call('stream.open')) as NodeJS.ReadableStream & { destroy(): void }
      s.on('data', (d: Buffer) => onEvent(d))
      s.on('error', () => {})
      return {
        close: async () => {
          s.destroy()
          await b.stop()
        },
      }
    },
    worker: (config, ctx) =>
      serving(broker(config, ctx, 'worker', [{ name: 'work', actions: { do: () => null } }])),
    async sender(config, ctx) {
      const b = await broker(config, ctx, 'sender', [])
      await waitForNodes(b, 'work', scenarioDefs.queue.first.count)
      return { call: (payload) => b.call('work.do', { p: latin1(payload) }), close: () => b.stop() }
    },
  }
}

/** moleculer with its TCP and Redis transporters. */
export const systems: System[] = [moleculerSystem('tcp') as System, moleculerSystem('redis') as System]
