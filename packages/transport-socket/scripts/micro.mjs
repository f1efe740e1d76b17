// Micro benchmark of the socket transport on built dist code (run `npx turbo run build` first):
//   node packages/transport-socket/scripts/micro.mjs [rtt|tput|large|queue|all] [seconds] [direct: 1|0]
// UNIPC_MICRO_TCP=1 runs over TCP (with a token) instead of a unix socket; `large` also prints the
// round trip's p50/p90 and checks every reply is the payload.
// (fan-out to 4 subscriber processes: scripts/fanout.mjs)
// Runs the hub (the built bin) and the server/worker/subscriber bus in child processes and drives
// them from this one. Reports wall-clock rates and the CPU time all three processes spent per
// operation, which is steadier than wall time on a loaded machine. Profile with
// `UNIPC_MICRO_PROF=dir node … ` (every process writes a --cpu-prof profile there);
// UNIPC_MICRO_NODE_ARGS adds node flags to the hub and the peer (e.g. `--trace-gc`, printed on stderr).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'

const here = fileURLToPath(import.meta.url)
const hubBin = join(dirname(here), '..', 'dist', 'bin', 'unipc-hub.js')
const prof = process.env.UNIPC_MICRO_PROF
const nodeArgs = process.env.UNIPC_MICRO_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const profArgs = (name) => [
  ...nodeArgs,
  ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${name}.cpuprofile`] : []),
]

/** Resolves once `stream` printed a match of `re`; everything it prints goes on to stderr. */
const outputMatches = (stream, re) =>
  new Promise((resolve) => {
    let text = ''
    stream.on('data', (chunk) => {
      process.stderr.write(chunk)
      if (text === null) return
      text += chunk
      if (re.test(text)) {
        text = null
        resolve()
      }
    })
  })

const role = process.argv[2]
if (role === '--peer') {
  const bus = await connect(process.argv[3], { liveness: false, component: 'q' })
  await bus.requests.serve('echo', (d) => d)
  await bus.commands.handle((d) => d, { concurrency: 64 })
  process.stdout.write('ready\n')
  process.stdin.on('end', () => void bus.close().then(() => process.exit(0)))
  process.stdin.resume()
} else {
  const what = role ?? 'all'
  const seconds = Number(process.argv[3] ?? 2)
  const direct = process.argv[4] !== '0'
  const dir = mkdtempSync(join(tmpdir(), 'sock-micro-'))
  const tcp = process.env.UNIPC_MICRO_TCP === '1'
  const token = 'micro-token-not-secret'
  if (tcp) writeFileSync(join(dir, 'token'), token, { mode: 0o600 })
  const hubUrl = tcp
    ? `tcp://127.0.0.1:${20_000 + Math.floor(Math.random() * 20_000)}`
    : `unix://${join(dir, 'hub.sock')}`
  const tokenArgs = tcp ? ['--token-file', join(dir, 'token')] : []
  const hub = spawn(
    process.execPath,
    [...profArgs('hub'), hubBin, '--listen', hubUrl, '--quiet', ...tokenArgs],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await outputMatches(hub.stdout, /listening/)
  const url = `${hubUrl}?direct=${direct ? 1 : 0}${tcp ? `&token=${token}` : ''}`
  const peer = spawn(process.execPath, [...profArgs('peer'), here, '--peer', url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  await outputMatches(peer.stdout, /^ready$/m)
  const bus = await connect(url, { liveness: false })
  const ticks = (pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10_000 // clock ticks (100/s) → µs
  }
  const cpu = () => {
    const u = process.cpuUsage()
    return u.user + u.system + ticks(hub.pid) + ticks(peer.pid)
  }
  const run = async (name, unit, body) => {
    const c0 = cpu()
    const t0 = performance.now()
    const n = await body(performance.now() + seconds * 1000)
    const ms = performance.now() - t0
    const c1 = cpu()
    console.log(
      `${name.padEnd(8)} ${((n / ms) * 1000).toFixed(0).padStart(8)} ${unit}/s  ${((c1 - c0) / n).toFixed(1)} cpu-µs/${unit}`,
    )
  }
  await bus.requests.call('echo', 1)
  if (what === 'rtt' || what === 'all')
    await run('rtt', 'req', async (end) => {
      let n = 0
      const p = new Uint8Array(64)
      while (performance.now() < end) {
        await bus.requests.call('echo', p)
        n++
      }
      return n
    })
  if (what === 'tput' || what === 'all')
    await run('tput×64', 'req', async (end) => {
      let n = 0
      const p = new Uint8Array(64)
      const lane = async () => {
        while (performance.now() < end) {
          await bus.requests.call('echo', p)
          n++
        }
      }
      await Promise.all(Array.from({ length: 64 }, lane))
      return n
    })
  if (what === 'large' || what === 'all')
    await run('1MiB', 'MB', async (end) => {
      let n = 0
      const p = Buffer.alloc(1024 * 1024, 97)
      const ms = []
      while (performance.now() < end) {
        const t = performance.now()
        const r = await bus.requests.call('echo', p)
        ms.push(performance.now() - t)
        if (!p.equals(r)) throw new Error('the echo differs from the payload')
        n++
      }
      ms.sort((a, b) => a - b)
      const at = (q) => ms[Math.floor(ms.length * q)].toFixed(2)
      const mean = (ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)
      console.log(`1MiB round trip p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, mean ${mean} ms`)
      return n * 2
    })
  if (what === 'queue' || what === 'all')
    await run('queue', 'cmd', async (end) => {
      let n = 0
      const lane = async () => {
        while (performance.now() < end) {
          await bus.commands.send('q', 1)
          n++
        }
      }
      await Promise.all(Array.from({ length: 64 }, lane))
      return n
    })
  await bus.close()
  peer.stdin.end()
  await new Promise((resolve) => peer.once('exit', resolve))
  hub.kill('SIGTERM')
  await new Promise((resolve) => hub.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
}
