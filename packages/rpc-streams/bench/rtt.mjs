/**
 * Round-trip latency of typed vs raw calls across processes, the way `npm run bench` runs them
 * (echo server in its own process, socket hub in its own process), but with the variants' rounds
 * alternating against one server process, so all see the same machine load:
 *   node packages/rpc-streams/bench/rtt.mjs [shm|unix] [rounds] [callsPerRound] [inFlight]
 * (with inFlight > 1 it measures calls per second and the slowest call instead of p50).
 * Plain node on the built dist/. Variants as in micro.mjs (raw, raw{data}, typed→raw, raw→typed,
 * typed; `ONLY=typed` runs raw and typed only). Prints each round's p50s and the median over rounds
 * of each variant's p50 / raw's p50 of the same round, and the median CPU time per call of the
 * calling process and of the server process (CPU time is what load on the machine disturbs least).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { connect } from '@unipc/core'
import { createClient, defineService, serve, t } from '@unipc/rpc-streams'

const methods = { echo: { params: t.object({ data: t.binary() }), result: t.binary() } }
const Echo = defineService({ name: 'rtt.Echo', methods })
const Half = defineService({ name: 'rtt.Half', methods })

if (process.argv[2] === '--server') {
  const bus = await connect(process.argv[3], { timeout: 120_000 })
  await bus.requests.serve('rtt.raw', (d) => d)
  await bus.requests.serve('rtt.cpu', () => {
    const c = process.cpuUsage()
    return c.user + c.system
  })
  await bus.requests.serve('rtt.rawobj', (d) => d.data)
  await serve(bus, Echo, { echo: ({ data }) => data })
  // A raw server of rtt.Half.echo that answers the schema check like serve() would.
  await bus.requests.serve('rtt.Half.echo', (d) => d.data)
  await bus.requests.serve('rtt.Half._schema', () => ({
    name: Half.name,
    version: Half.version,
    fingerprint: Half.fingerprint,
    canonical: Half.canonical,
  }))
  process.stdout.write('ready\n')
  process.stdin.resume()
  process.stdin.on('end', async () => {
    await bus.close()
    process.exit(0)
  })
} else {
  const kind = process.argv[2] ?? 'shm'
  const rounds = Number(process.argv[3] ?? 10)
  const calls = Number(process.argv[4] ?? 20_000)
  const inFlight = Number(process.argv[5] ?? 1)
  const dir = mkdtempSync(join(tmpdir(), 'rpc-rtt-'))
  const children = []
  const start = (args, marker) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
      children.push(child)
      child.on('error', reject)
      child.stdout.on('data', (b) => {
        if (b.toString().includes(marker)) resolve(child)
      })
    })
  let url
  if (kind === 'unix') {
    url = `unix://${join(dir, 'hub.sock')}`
    const pkg = dirname(createRequire(import.meta.url).resolve('@unipc/transport-socket/package.json'))
    await start([join(pkg, 'dist', 'bin', 'unipc-hub.js'), '--listen', url], 'listening')
  } else url = `shm://rtt-${process.pid}?dir=${dir}&idle=1000`
  await start([new URL(import.meta.url).pathname, '--server', url], 'ready')
  const bus = await connect(url, { timeout: 120_000 })
  const typed = createClient(bus, Echo)
  const half = createClient(bus, Half)
  const payload = new Uint8Array(64)
  const variants = {
    raw: () => bus.requests.call('rtt.raw', payload),
    'raw{data}': () => bus.requests.call('rtt.rawobj', { data: payload }),
    'typed→raw': () => half.echo({ data: payload }),
    'raw→typed': () => bus.requests.call('rtt.Echo.echo', { data: payload }),
    typed: () => typed.echo({ data: payload }),
  }
  const only = process.env.ONLY?.split(',')
  const names = Object.keys(variants).filter((n) => n === 'raw' || !only || only.includes(n))
  /** p50 latency in µs (one in flight), or calls per second and the slowest call (several). */
  const p50 = async (call, n) => {
    if (inFlight > 1) return rate(call, n)
    const lat = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint()
      await call()
      lat[i] = Number(process.hrtime.bigint() - t0) / 1000
    }
    lat.sort()
    return lat[n >> 1]
  }
  const slowest = {}
  const rate = async (call, n) => {
    let started = 0
    let worst = 0
    const loop = async () => {
      while (started < n) {
        started++
        const t0 = process.hrtime.bigint()
        await call()
        const us = Number(process.hrtime.bigint() - t0) / 1000
        if (us > worst) worst = us
      }
    }
    const t0 = process.hrtime.bigint()
    await Promise.all(Array.from({ length: inFlight }, loop))
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    slowest.last = worst
    return started / s
  }
  for (const n of names) await p50(variants[n], calls)
  const ratios = Object.fromEntries(names.map((n) => [n, []]))
  // CPU µs per call of this process (caller) and of the server process, per variant and round.
  const cpu = Object.fromEntries(names.map((n) => [n, { caller: [], server: [] }]))
  const serverCpu = () => bus.requests.call('rtt.cpu')
  const measure = async (n) => {
    const s0 = await serverCpu()
    const c0 = process.cpuUsage()
    const v = await p50(variants[n], calls)
    const c = process.cpuUsage(c0)
    const s1 = await serverCpu()
    cpu[n].caller.push((c.user + c.system) / calls)
    cpu[n].server.push((s1 - s0) / calls)
    return v
  }
  for (let i = 0; i < rounds; i++) {
    const p = {}
    // Rotate the order: no variant always runs first or right after another.
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]
      p[n] = await measure(n)
      if (inFlight > 1) p[`${n} max`] = slowest.last
    }
    for (const n of names) ratios[n].push(p[n] / p.raw)
    const show = (n) =>
      inFlight > 1
        ? `${n} ${Math.round(p[n])}/s (max ${(p[`${n} max`] / 1000).toFixed(1)} ms)`
        : `${n} ${p[n].toFixed(1)}`
    console.log(`round ${i}: ${inFlight > 1 ? 'calls/s' : 'p50 µs'} ${names.map(show).join(', ')}`)
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
  console.log(
    `${kind}: median ${inFlight > 1 ? `rate (${inFlight} in flight)` : 'p50'} ratio to raw: ${names
      .filter((n) => n !== 'raw')
      .map((n) => `${n} ${median(ratios[n]).toFixed(3)}`)
      .join(', ')}`,
  )
  console.log(
    `${kind}: median CPU µs per call (caller + server): ${names
      .map((n) => `${n} ${median(cpu[n].caller).toFixed(2)} + ${median(cpu[n].server).toFixed(2)}`)
      .join(', ')}`,
  )
  await bus.close()
  for (const c of children) c.stdin.end()
  await new Promise((r) => setTimeout(r, 300))
  for (const c of children) if (c.exitCode === null) c.kill()
  rmSync(dir, { recursive: true, force: true })
}
