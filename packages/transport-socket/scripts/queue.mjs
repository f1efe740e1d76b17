// queue harness: hub + 4 workers (child processes) + sender (this process), 64 in flight
// node qbench.mjs [seconds] [tcp]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, registerTransport } from '@unipc/core'

const here = fileURLToPath(import.meta.url)
// UNIPC_QUEUE_BASE=<package dir>: measure another build of this package (an A/B against a baseline).
const pkgDir = process.env.UNIPC_QUEUE_BASE ?? join(dirname(here), '..')
const hubBin = join(pkgDir, 'dist', 'bin', 'unipc-hub.js')
if (process.env.UNIPC_QUEUE_BASE) {
  const { createTransport } = await import(join(pkgDir, 'dist', 'index.js'))
  for (const scheme of ['unix:', 'tcp:']) registerTransport(scheme, createTransport)
}
const prof = process.env.PROF
const profArgs = (name) =>
  prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${name}.cpuprofile`] : []
if (process.argv[2] === '--worker') {
  const bus = await connect(process.argv[3], {
    liveness: process.env.UNIPC_QUEUE_LIVENESS === '1',
    component: 'q',
    timeout: 120000,
  })
  await bus.commands.handle(() => null, { concurrency: 16 })
  process.stdout.write('ready\n')
  process.stdin.on('end', () => void bus.close().then(() => process.exit(0)))
  process.stdin.resume()
} else {
  const seconds = Number(process.argv[2] ?? 3)
  const tcp = process.argv[3] === 'tcp'
  const dir = mkdtempSync('/var/tmp/socket-queue/run-')
  const token = 'micro-token-not-secret'
  if (tcp) writeFileSync(join(dir, 'token'), token, { mode: 0o600 })
  const hubUrl = tcp
    ? `tcp://127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`
    : `unix://${join(dir, 'hub.sock')}`
  const hub = spawn(
    process.execPath,
    [
      ...profArgs('hub'),
      hubBin,
      '--listen',
      hubUrl,
      '--quiet',
      ...(tcp ? ['--token-file', join(dir, 'token')] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise((r) => hub.stdout.once('data', r))
  const url = `${hubUrl}${tcp ? `?token=${token}` : ''}`
  const workers = []
  for (let i = 0; i < 4; i++) {
    const w = spawn(process.execPath, [...profArgs(`worker${i}`), here, '--worker', url], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    await new Promise((r) => w.stdout.once('data', r))
    workers.push(w)
  }
  const bus = await connect(url, { liveness: process.env.UNIPC_QUEUE_LIVENESS === '1', timeout: 120000 })
  if (process.env.PIDS)
    writeFileSync(process.env.PIDS, [hub.pid, ...workers.map((w) => w.pid), process.pid].join(' '))
  const ticks = (pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10000
  }
  // Read and write system calls so far (the figure batching moves).
  const sysc = (pid) => {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    return Number(/syscr: (\d+)/.exec(io)[1]) + Number(/syscw: (\d+)/.exec(io)[1])
  }
  const calls = () => ({
    sender: sysc(process.pid),
    hub: sysc(hub.pid),
    workers: workers.reduce((s, w) => s + sysc(w.pid), 0),
  })
  const cpu = () => {
    const u = process.cpuUsage()
    return {
      sender: u.user + u.system,
      hub: ticks(hub.pid),
      workers: workers.reduce((s, w) => s + ticks(w.pid), 0),
    }
  }
  const p = new Uint8Array(64)
  const runFor = async (ms) => {
    const end = performance.now() + ms
    let n = 0
    const lane = async () => {
      while (performance.now() < end) {
        await bus.commands.send('q', p)
        n++
      }
    }
    await Promise.all(Array.from({ length: 64 }, lane))
    return n
  }
  await runFor(Number(process.env.UNIPC_QUEUE_WARMUP ?? 500))
  for (let rep = 0; rep < Number(process.env.UNIPC_QUEUE_REPS ?? 3); rep++) {
    const s0 = calls()
    const c0 = cpu()
    const t0 = performance.now()
    const n = await runFor(seconds * 1000)
    const ms = performance.now() - t0
    const c1 = cpu()
    const s1 = calls()
    const sys = ['sender', 'hub', 'workers'].map((k) => ((s1[k] - s0[k]) / n).toFixed(2)).join(' ')
    const per = (k) => ((c1[k] - c0[k]) / n).toFixed(1)
    console.log(
      `${tcp ? 'tcp ' : 'unix'} ${((n / ms) * 1000).toFixed(0).padStart(7)} cmd/s  cpu-µs/cmd sender ${per('sender')} hub ${per('hub')} workers ${per('workers')} total ${((c1.sender + c1.hub + c1.workers - (c0.sender + c0.hub + c0.workers)) / n).toFixed(1)}  syscalls/cmd ${sys}`,
    )
  }
  await bus.close()
  for (const w of workers) w.stdin.end()
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))))
  hub.kill('SIGTERM')
  await new Promise((r) => hub.once('exit', r))
  rmSync(dir, { recursive: true, force: true })
}
