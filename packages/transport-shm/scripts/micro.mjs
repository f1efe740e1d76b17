// Micro benchmark of the shm transport on built dist code (run `npx turbo run build` first):
//   node packages/transport-shm/scripts/micro.mjs [rtt|tput|stream|large|all] [seconds] [spin µs]
// Spawns the server bus as a child process and drives it from this one. Numbers are noisy on a
// shared machine: compare runs made back to back, and profile with `node --cpu-prof`.
// PIN=1 pins this process to CPU 0 and the server to CPU 1 (taskset): pipelined throughput needs
// the two on separate cores, which a loaded machine's scheduler does not always give them.
// SPIN_STATS=1 adds the busy-poll figures per operation.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'

const role = process.argv[2]
if (role === '--server') {
  const bus = await connect(process.argv[3])
  await bus.requests.serve('echo', (d) => d)
  await bus.requests.serve('stream', function* (_d, call) {
    const payload = new Uint8Array(64)
    while (!call.signal.aborted) yield payload
  })
  process.stdout.write('ready\n')
  process.stdin.on('data', () => {
    const u = process.cpuUsage()
    process.stdout.write(`${u.user + u.system} ${JSON.stringify(bus.transport.spinStats?.() ?? {})}\n`)
  })
  process.stdin.on('end', () => void bus.close().then(() => process.exit(0)))
  process.stdin.resume()
} else {
  const what = role ?? 'all'
  const seconds = Number(process.argv[3] ?? 2)
  const dir = mkdtempSync(join(tmpdir(), 'shm-micro-'))
  const spin = process.argv[4] === undefined ? '' : `&spin=${process.argv[4]}`
  const url = `shm://micro${process.pid}?dir=${dir}&idle=500${spin}`
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--server', url],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  await new Promise((resolve) => child.stdout.once('data', resolve))
  if (process.env.PIN) {
    const { execFileSync } = await import('node:child_process')
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(child.pid)], { stdio: 'ignore' })
  }
  const bus = await connect(url)
  const p64 = new Uint8Array(64)
  // CPU time of both processes (µs): steadier than wall time on a loaded machine.
  const cpu = async () => {
    const line = new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).split(' '))))
    child.stdin.write('cpu\n')
    const u = process.cpuUsage()
    const [server, spin] = await line
    return {
      client: u.user + u.system,
      server: Number(server),
      spin: [bus.transport.spinStats?.(), JSON.parse(spin)],
    }
  }
  // Busy-poll figures per operation, caller/server (see ShmTransport.spinStats).
  const spinPerOp = (c0, c1, n) =>
    c0.spin[0]
      ? ' poll ' +
        [0, 1]
          .map((i) => {
            const a = c0.spin[i]
            const b = c1.spin[i]
            return `${((b.polledUs - a.polledUs) / n).toFixed(1)}µs/${((b.deliveries - a.deliveries) / n).toFixed(2)}hit/${((b.sleeps - a.sleeps) / n).toFixed(2)}sleep w${b.windowUs}`
          })
          .join(' | ')
      : ''
  const perOp = (c0, c1, n) => {
    const c = (c1.client - c0.client) / n
    const s = (c1.server - c0.server) / n
    return `${(c + s).toFixed(2)} cpu-µs/op (caller ${c.toFixed(2)}, server ${s.toFixed(2)})${process.env.SPIN_STATS ? spinPerOp(c0, c1, n) : ''}`
  }
  const until = (ms) => {
    const end = performance.now() + ms
    return () => performance.now() < end
  }
  try {
    for (let i = 0; i < 2000; i++) await bus.requests.call('echo', p64)
    if (what === 'all' || what === 'rtt') {
      const times = []
      const c0 = await cpu()
      for (const more = until(seconds * 1000); more(); ) {
        const t = performance.now()
        await bus.requests.call('echo', p64)
        times.push(performance.now() - t)
      }
      times.sort((a, b) => a - b)
      const p = (q) => (times[Math.floor(times.length * q)] * 1000).toFixed(1)
      console.log(
        `rtt p50 ${p(0.5)} µs p99 ${p(0.99)} µs (${times.length} calls) ${perOp(c0, await cpu(), times.length)}`,
      )
    }
    if (what === 'all' || what === 'tput') {
      let n = 0
      const c0 = await cpu()
      const more = until(seconds * 1000)
      const t = performance.now()
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (more()) {
            await bus.requests.call('echo', p64)
            n++
          }
        }),
      )
      console.log(
        `throughput x64 ${Math.round(n / ((performance.now() - t) / 1000))} req/s ${perOp(c0, await cpu(), n)}`,
      )
    }
    if (what === 'all' || what === 'stream') {
      let n = 0
      const sub = bus.requests.stream('stream').subscribe({ next: () => n++, error: () => {} })
      await new Promise((r) => setTimeout(r, 300))
      const n0 = n
      const c0 = await cpu()
      const t = performance.now()
      await new Promise((r) => setTimeout(r, seconds * 1000))
      const n1 = n
      console.log(
        `stream ${Math.round((n1 - n0) / ((performance.now() - t) / 1000))} ev/s ${perOp(c0, await cpu(), n1 - n0)}`,
      )
      sub.unsubscribe()
    }
    if (what === 'all' || what === 'large') {
      // A Buffer, as the bench sends (msgpack bin: core may hand large Buffer bodies out as views).
      const big = Buffer.alloc(1 << 20, 7)
      let n = 0
      const times = []
      const c0 = await cpu()
      const more = until(seconds * 1000)
      const t = performance.now()
      while (more()) {
        const t1 = performance.now()
        await bus.requests.call('echo', big)
        times.push(performance.now() - t1)
        n++
      }
      times.sort((a, b) => a - b)
      const p = (q) => Math.round(times[Math.min(times.length - 1, Math.floor(times.length * q))] * 1000)
      console.log(
        `large ${Math.round((n * 2 * big.length) / 1e6 / ((performance.now() - t) / 1000))} MB/s ${perOp(c0, await cpu(), n)}` +
          ` p50 ${p(0.5)} p99 ${p(0.99)} max ${p(1)} µs`,
      )
    }
  } finally {
    await bus.close()
    child.stdin.end()
    await new Promise((r) => child.once('exit', r))
    rmSync(dir, { recursive: true, force: true })
  }
}
