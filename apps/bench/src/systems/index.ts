/**
 * The benchmarked systems: one adapter module per line. Adding a system = one file in this folder
 * exporting `systems: System[]`, and one line here. The report lists them in this order.
 * @module
 */
export const systemModules: readonly string[] = [
  'unipc-memory.ts',
  'unipc-socket.ts',
  'unipc-redis.ts',
  'unipc-shm.ts',
  'unipc-rpc-streams.ts',
  'net-msgpack.ts',
  'ioredis-plain.ts',
  'zeromq.ts',
  'node-ipc.ts',
  'moleculer.ts',
  'nest-redis.ts',
]
