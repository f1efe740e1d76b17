/**
 * unipc's Redis transport (@unipc/transport-redis) over a unix socket and over TCP, on the run's own
 * redis-server.
 * @module
 */
import type { System } from '../types.js'
import { unipcSystem } from './unipc.js'

export const systems: System[] = (['unix', 'tcp'] as const).map(
  (link) =>
    unipcSystem({
      name: `unipc redis ${link}`,
      link: link === 'unix' ? 'redis-unix' : 'redis-tcp',
      package: '@unipc/transport-redis',
      description: `unipc over @unipc/transport-redis (ioredis), Redis on ${link === 'unix' ? 'a unix socket' : 'TCP'}`,
      setup: async (env) => {
        const r = await env.redis()
        return { url: link === 'unix' ? `redis+unix://${r.socket}` : `redis://127.0.0.1:${r.port}` }
      },
    }) as System,
)
