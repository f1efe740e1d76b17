/**
 * Typed services (@unipc/rpc-streams) over the socket (unix) and shm transports: the same echo as
 * the `unipc socket unix` / `unipc shm` rows, but through `serve()` and a typed client (parameter and
 * result validation, schema check, declared-error mapping, idempotency cache: all defaults on).
 * Issue 7 asks for typed-client overhead over raw `bus.requests.call` of at most 10%: the server
 * process also serves a raw echo and the caller also calls it on the same bus, so the driver
 * alternates typed and raw calls in the same processes (`Caller.baseline`). The `unipc …` row of the
 * same transport is still measured separately (setups are reused, not copied).
 * @module
 */
import type { Caller, Closable, RoleContext, System } from '../types.js'
import type { UnipcConfig } from './unipc.js'
import { systems as shmSystems } from './unipc-shm.js'
import { systems as socketSystems } from './unipc-socket.js'

/** The echo service of one run (the run id keeps method names apart). */
async function echoService(ctx: RoleContext) {
  const { defineService, t } = await import('@unipc/rpc-streams')
  return defineService({
    name: `bench-typed-${ctx.runId}`,
    methods: { echo: { params: t.object({ data: t.binary() }), result: t.binary() } },
  })
}

/** The raw echo beside the typed one (the same name scheme as the `unipc …` rows). */
const rawEcho = (ctx: RoleContext): string => `bench-echo-${ctx.runId}`

async function connectBus(config: UnipcConfig) {
  const { connect } = await import('@unipc/core')
  return connect(config.url, {
    timeout: 120_000,
    ...(config.transport ? { transport: config.transport } : {}),
  })
}

function typedSystem(base: System, name: string): System<UnipcConfig> {
  const unsupported = 'issue 7 measures typed-client overhead on rtt, throughput and large only'
  return {
    name,
    group: 'unipc',
    link: base.link,
    description: `${base.description}; typed service via @unipc/rpc-streams (serve + createClient)`,
    scenarios: {
      rtt: true,
      throughput: true,
      large: true,
      fanout: unsupported,
      stream: unsupported,
      queue: unsupported,
    },
    packages: [...(base.packages ?? []), '@unipc/rpc-streams'],
    pairedWith: base.name,
    setup: base.setup as System<UnipcConfig>['setup'],
    // Load like the raw row does (core and transport), plus rpc-streams, before the run starts.
    async preload(config) {
      await Promise.all([base.preload?.(config as never), import('@unipc/rpc-streams')])
    },
    async echoServer(config, ctx): Promise<Closable> {
      const { serve } = await import('@unipc/rpc-streams')
      const bus = await connectBus(config)
      await serve(bus, await echoService(ctx), { echo: ({ data }) => data })
      await bus.requests.serve(rawEcho(ctx), (data) => data)
      return bus
    },
    async caller(config, ctx): Promise<Caller> {
      const { createClient } = await import('@unipc/rpc-streams')
      const bus = await connectBus(config)
      const client = createClient(bus, await echoService(ctx))
      const method = rawEcho(ctx)
      return {
        call: (payload) => client.echo({ data: payload }),
        baseline: { call: (payload) => bus.requests.call(method, payload), close: () => {} },
        close: () => bus.close(),
      }
    },
  }
}

const byName = (list: System[], name: string): System => {
  const s = list.find((x) => x.name === name)
  if (!s) throw new Error(`bench system '${name}' not found`)
  return s
}

export const systems: System[] = [
  typedSystem(byName(socketSystems, 'unipc socket unix'), 'unipc typed socket unix') as System,
  typedSystem(byName(shmSystems, 'unipc shm'), 'unipc typed shm') as System,
]
