/**
 * unipc's shared-memory transport (@unipc/transport-shm): rings in /dev/shm, the bus's broker
 * started on first use.
 * @module
 */
import type { System } from '../types.js'
import { unipcSystem } from './unipc.js'

export const systems: System[] = [
  unipcSystem({
    name: 'unipc shm',
    link: 'shm',
    package: '@unipc/transport-shm',
    description: 'unipc over @unipc/transport-shm (C++ rings in shared memory, FIFO doorbells)',
    setup: async (env) => ({ url: `shm://bench-${process.pid}?dir=${env.tempDir()}&idle=1000` }),
  }) as System,
]
