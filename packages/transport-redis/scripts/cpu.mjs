// CPU per request round trip with caller and server in this one process (each with its own
// connections; redis-server runs apart), on built dist code (run `npx turbo run build` first):
//   node packages/transport-redis/scripts/cpu.mjs [unix|tcp]
// Env: KINDS (default `unipc,ioredis`; `old` = the build whose index.js UNIPC_CPU_OLD names, for an
// A/B of two versions), ROUNDS (8), N (calls per round, 2000), INFLIGHT (1; 64 measures calls/s too).
// Prints, per kind, the median over the interleaved rounds of this process's CPU µs per call
// (caller + server JS and their syscalls, not Redis) and of the round's p50. On a loaded machine
// the CPU per call is the steadier figure; plain ioredis does the same round trip on lists
// (LPUSH + BRPOP, as apps/bench).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@unipc/core'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false })
const link = process.argv[2] ?? 'unix'
const dir = mkdtempSync(join(tmpdir(), 'redis-cpu-'))
const sock = join(dir, 'redis.sock')
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => resolve(p))
  })
})
const redis = spawn(
  'redis-server',
  [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--unixsocket',
    sock,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ],
  { stdio: 'ignore' },
)
const url = link === 'unix' ? `redis+unix://${sock}` : `redis://127.0.0.1:${port}`
const opts = link === 'unix' ? { path: sock } : { port, host: '127.0.0.1' }
for (let i = 0; ; i++) {
  const probe = new Redis({ ...opts, lazyConnect: true, retryStrategy: () => null })
  probe.on('error', () => {})
  const ok = await probe.connect().then(
    () => true,
    () => false,
  )
  probe.disconnect()
  if (ok) break
  if (i > 100) throw new Error('redis-server did not start')
  await new Promise((r) => setTimeout(r, 50))
}

async function unipc(build) {
  const { createTransport } = await import(build)
  const server = await connect(createTransport(new URL(url), {}))
  await server.requests.serve('echo', (d) => d)
  const caller = await connect(createTransport(new URL(url), {}))
  return {
    call: (p) => caller.requests.call('echo', p),
    close: async () => {
      await caller.close()
      await server.close()
    },
  }
}

async function plain() {
  const [w1, b1, w2, b2] = [1, 2, 3, 4].map(() => new Redis(opts))
  let closed = false
  const pending = new Map()
  let next = 0
  const loop = async (client, list, onItem) => {
    while (!closed) {
      const r = await client.brpopBuffer(list, 0).catch(() => null)
      if (r) onItem(r[1])
    }
  }
  void loop(b1, 'cpu:echo', (buf) => {
    const item = packr.unpack(buf)
    void w1.lpush(item[0], packr.pack([item[1], item[2]]))
  })
  void loop(b2, 'cpu:reply', (buf) => {
    const [id, body] = packr.unpack(buf)
    pending.get(id)?.(body)
    pending.delete(id)
  })
  return {
    call: (p) =>
      new Promise((resolve) => {
        const id = next++
        pending.set(id, resolve)
        void w2.lpush('cpu:echo', packr.pack(['cpu:reply', id, p]))
      }),
    close: () => {
      closed = true
      for (const r of [w1, b1, w2, b2]) r.disconnect()
    },
  }
}

const makers = {
  unipc: () => unipc(new URL('../dist/index.js', import.meta.url).href),
  old: () => unipc(process.env.UNIPC_CPU_OLD),
  ioredis: plain,
}
const kinds = (process.env.KINDS ?? 'unipc,ioredis').split(',')
const N = Number(process.env.N ?? 2000)
const inflight = Number(process.env.INFLIGHT ?? 1)
const systems = {}
try {
  for (const k of kinds) systems[k] = await makers[k]()
  const payload = new Uint8Array(64)
  for (const k of kinds) for (let i = 0; i < 3000; i++) await systems[k].call(payload)
  const res = Object.fromEntries(kinds.map((k) => [k, { cpu: [], p50: [], rate: [] }]))
  for (let round = 0; round < Number(process.env.ROUNDS ?? 8); round++)
    for (const k of kinds) {
      const times = []
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: inflight }, async () => {
          for (let i = 0; i < N / inflight; i++) {
            const s = performance.now()
            await systems[k].call(payload)
            times.push(performance.now() - s)
          }
        }),
      )
      const wall = performance.now() - t0
      const cu = process.cpuUsage(c0)
      times.sort((a, b) => a - b)
      res[k].cpu.push((cu.user + cu.system) / times.length)
      res[k].p50.push(times[times.length >> 1] * 1000)
      res[k].rate.push((times.length / wall) * 1000)
    }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
  for (const k of kinds)
    console.log(
      `${link} ${k.padEnd(8)} CPU µs/call ${med(res[k].cpu).toFixed(1)} (rounds ${res[k].cpu.map((x) => x.toFixed(0)).join(' ')})` +
        `  p50 ${med(res[k].p50).toFixed(0)} µs${inflight > 1 ? `  ${Math.round(med(res[k].rate))} calls/s` : ''}`,
    )
} finally {
  for (const k of Object.keys(systems)) await systems[k].close()
  redis.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
