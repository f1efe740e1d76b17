/**
 * CPU per call of the typed layer, side by side with raw `bus.requests.call`/`serve`, in one process
 * over the memory transport (no sockets: what is left is core + codec + typed layer):
 *   npx turbo run build --filter=@unipc/rpc-streams... && node packages/rpc-streams/bench/micro.mjs [inFlight] [calls]
 * Plain node on the built dist/. Five variants of one 64-byte echo, run in interleaved rounds:
 *   raw        bytes in, bytes out (the `unipc …` bench rows)
 *   raw{data}  raw call and serve of the typed call's body: what the codec adds
 *   typed→raw  typed client against a raw server of the same method: the client side of the typed layer
 *   raw→typed  raw caller against `serve()`: the server side of the typed layer
 *   typed      typed client and `serve()` (the `unipc typed …` rows)
 * and prints each one's median CPU µs per call and its difference from raw{data}.
 * `PROF=<variant>` runs only that variant (for `node --cpu-prof`; `PROF=1` means typed); with
 * `HEAP=<file>` as well, it writes a sampling heap profile of everything allocated, collected or not
 * (open it in DevTools: which code allocates how much per call). `MICRO_URL=shm://…` or `unix://…`
 * (a hub must run) measures over another transport.
 * `RS=<path of another build's index.js>` measures that build of rpc-streams instead (A/B).
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { connect } from '@unipc/core'

const { createClient, defineService, serve, t } = await import(process.env.RS ?? '@unipc/rpc-streams')

const inFlight = Number(process.argv[2] ?? 1)
const calls = Number(process.argv[3] ?? 50_000)
const rounds = Number(process.env.ROUNDS ?? 9)

const methods = { echo: { params: t.object({ data: t.binary() }), result: t.binary() } }
const Echo = defineService({ name: 'micro.Echo', methods })
const Half = defineService({ name: 'micro.Half', methods })
const url = process.env.MICRO_URL ?? `memory://micro-${process.pid}`
const server = await connect(url, { component: 'server' })
const caller = await connect(url, { component: 'caller' })
await server.requests.serve('micro.raw', (d) => d)
await server.requests.serve('micro.rawobj', (d) => d.data)
await serve(server, Echo, { echo: ({ data }) => data })
// A raw server of micro.Half.echo that answers the schema check like serve() would.
await server.requests.serve('micro.Half.echo', (d) => d.data)
await server.requests.serve('micro.Half._schema', () => ({
  name: Half.name,
  version: Half.version,
  fingerprint: Half.fingerprint,
  canonical: Half.canonical,
}))
const typed = createClient(caller, Echo)
const half = createClient(caller, Half)
const payload = new Uint8Array(64)

const variants = {
  raw: () => caller.requests.call('micro.raw', payload),
  'raw{data}': () => caller.requests.call('micro.rawobj', { data: payload }),
  'typed→raw': () => half.echo({ data: payload }),
  'raw→typed': () => caller.requests.call('micro.Echo.echo', { data: payload }),
  typed: () => typed.echo({ data: payload }),
}

/** Runs `n` calls of `call` with `inFlight` in flight; returns CPU µs per call. */
async function round(call, n) {
  let started = 0
  const worker = async () => {
    while (started < n) {
      started++
      await call()
    }
  }
  const cpu0 = process.cpuUsage()
  const workers = []
  for (let i = 0; i < inFlight; i++) workers.push(worker())
  await Promise.all(workers)
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / started
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
if (process.env.PROF) {
  const only = variants[process.env.PROF === '1' ? 'typed' : process.env.PROF]
  if (!only) throw new Error(`PROF names no variant; variants: ${Object.keys(variants).join(', ')}`)
  await round(only, calls / 5)
  const session = process.env.HEAP ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    })
  }
  for (let i = 0; i < rounds; i++) await round(only, calls)
  if (session) {
    const { profile } = await session.post('HeapProfiler.stopSampling')
    writeFileSync(process.env.HEAP, JSON.stringify(profile))
    session.disconnect()
  }
} else {
  const names = Object.keys(variants)
  const results = Object.fromEntries(names.map((n) => [n, []]))
  for (const n of names) await round(variants[n], calls / 5)
  for (let i = 0; i < rounds; i++) {
    // Rotate the order so no variant always runs right after a GC-heavy one.
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]
      results[n].push(await round(variants[n], calls))
    }
  }
  const base = median(results['raw{data}'])
  const line = names.map((n) => {
    const m = median(results[n])
    const d = n === 'raw' || n === 'raw{data}' ? '' : ` (${m - base >= 0 ? '+' : ''}${(m - base).toFixed(2)})`
    return `${n} ${m.toFixed(2)}${d}`
  })
  console.log(`inFlight=${inFlight}: CPU µs/call: ${line.join(', ')}`)
}
await caller.close()
await server.close()
