/**
 * unipc over `memory:`: every role in one process (the memory transport cannot cross processes), so
 * this row shows what the core itself costs, with no IPC at all. A reference, not a competitor.
 * @module
 */
import type { System } from '../types.js'
import { unipcSystem } from './unipc.js'

export const systems: System[] = [
  unipcSystem({
    name: 'unipc memory',
    link: 'memory',
    description: 'unipc core over memory: — all roles in ONE process (no IPC): the cost of the core alone',
    inProcess: true,
    setup: async () => ({ url: 'memory://bench' }),
  }) as System,
]
