/**
 * The generic unipc adapter: every scenario through the public Bus API over a transport URL, so each
 * transport's adapter file only says how to get a URL (start a hub, a redis-server…):
 * requests.call for rtt/throughput/large, events for fan-out, requests.stream (credit flow control)
 * for stream, commands for the queue.
 * @module
 */
import type { Bus, ConnectOptions } from '@unipc/core'
import type { Group, Link, RoleContext, ScenarioName, SetupEnv, System } from '../types.js'

/** What every role of a unipc system receives: the URL and options for `connect()`. */
export interface UnipcConfig {
  readonly url: string
  readonly transport?: Record<string, unknown>
}

/** Options of {@link unipcSystem}. */
export interface UnipcSystemOptions {
  /** Table name, e.g. `unipc socket unix`. */
  readonly name: string
  readonly link: Link
  readonly description: string
  /** The transport package (checked at setup, listed with its version). */
  readonly package?: string
  /** All roles in one process (memory:). */
  readonly inProcess?: boolean
  /** Scenarios this transport cannot run, with the reason. */
  readonly unsupported?: Partial<Record<ScenarioName, string>>
  /** Starts what the transport needs and returns the URL (and transport options) the roles connect with. */
  readonly setup: (env: SetupEnv) => Promise<UnipcConfig>
  readonly group?: Group
}

const connectBus = async (config: UnipcConfig, component?: string): Promise<Bus> => {
  const { connect } = await import('@unipc/core')
  const options: ConnectOptions = { timeout: 120_000 }
  if (component) options.component = component
  if (config.transport) options.transport = config.transport
  return connect(config.url, options)
}

const names = (ctx: RoleContext) => ({
  echo: `bench-echo-${ctx.runId}`,
  stream: `bench-stream-${ctx.runId}`,
  channel: `bench.fanout.${ctx.runId}`,
  queue: `bench-queue-${ctx.runId}`,
})

/** Builds a System that measures a unipc transport through the public API. */
export function unipcSystem(options: UnipcSystemOptions): System<UnipcConfig> {
  const scenarios: System['scenarios'] = {
    rtt: true,
    throughput: true,
    fanout: true,
    stream: true,
    large: true,
    queue: true,
    ...options.unsupported,
  }
  return {
    name: options.name,
    group: options.group ?? 'unipc',
    link: options.link,
    description: options.description,
    scenarios,
    ...(options.inProcess ? { inProcess: true } : {}),
    packages: ['@unipc/core', ...(options.package ? [options.package] : [])],
    async setup(env) {
      if (options.package) await import(options.package)
      return options.setup(env)
    },
    async preload() {
      await import('@unipc/core')
      if (options.package) await import(options.package)
    },
    async echoServer(config, ctx) {
      const bus = await connectBus(config)
      await bus.requests.serve(names(ctx).echo, (data) => data)
      return bus
    },
    async caller(config, ctx) {
      const bus = await connectBus(config)
      const method = names(ctx).echo
      return { call: (payload) => bus.requests.call(method, payload), close: () => bus.close() }
    },
    async publisher(config, ctx) {
      const bus = await connectBus(config)
      const channel = names(ctx).channel
      return { publish: (payload) => bus.events.publish(channel, payload), close: () => bus.close() }
    },
    async subscriber(config, ctx, onEvent) {
      const bus = await connectBus(config)
      const sub = bus.events.subscribe<Uint8Array>(names(ctx).channel)
      sub.subscribe((m) => onEvent(m.data))
      await sub.ready
      return bus
    },
    async streamServer(config, ctx, payload) {
      const bus = await connectBus(config)
      await bus.requests.serve(names(ctx).stream, (_data, call) => endless(payload, call.signal))
      return bus
    },
    async streamClient(config, ctx, onEvent) {
      const bus = await connectBus(config)
      const sub = bus.requests
        .stream<Uint8Array>(names(ctx).stream)
        .subscribe({ next: onEvent, error: () => {} })
      return {
        close: async () => {
          sub.unsubscribe()
          await bus.close()
        },
      }
    },
    async worker(config, ctx) {
      const bus = await connectBus(config, names(ctx).queue)
      await bus.commands.handle(() => null, { concurrency: 16 })
      return bus
    },
    async sender(config, ctx) {
      const bus = await connectBus(config)
      const queue = names(ctx).queue
      return { call: (payload) => bus.commands.send(queue, payload), close: () => bus.close() }
    },
  }
}

/** Yields `payload` until the call is cancelled; the core's credit window paces it. */
function* endless(payload: Uint8Array, signal: AbortSignal): Generator<Uint8Array> {
  while (!signal.aborted) yield payload
}
