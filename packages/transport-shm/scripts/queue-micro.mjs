// Micro benchmark of shm commands (the bench's queue scenario) on built dist code (run
// `npx turbo run build --filter=@unipc/transport-shm...` first):
//   node packages/transport-shm/scripts/queue-micro.mjs [seconds] [workers] [in flight] [spin µs]
// Spawns the workers as child processes (concurrency 16 each) and sends from this one; prints
// commands/s and the CPU time per command of the sender, the workers and the broker, which is
// steadier than wall time on a loaded machine. URL=<url> measures another transport (no broker);
// QUEUES=1 runs a broker that makes buses use the per-command Push/Reply and Ack (queue protocol 1).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'

if (process.argv[2] === '--worker') {
  const bus = await connect(process.argv[3], { component: 'q' })
  await bus.commands.handle(() => null, { concurrency: 16 })
  process.stdout.write('ready\n')
  process.stdin.on('data', () => {
    const u = process.cpuUsage()
    process.stdout.write(`${u.user + u.system}\n`)
  })
  process.stdin.on('end', () => void bus.close().then(() => process.exit(0)))
  process.stdin.resume()
} else {
  const seconds = Number(process.argv[2] ?? 2)
  const nWorkers = Number(process.argv[3] ?? 4)
  const inFlight = Number(process.argv[4] ?? 64)
  const dir = mkdtempSync(join(tmpdir(), 'shm-qmicro-'))
  const spin = process.argv[5] === undefined ? '' : `&spin=${process.argv[5]}`
  const bus0 = `qmicro${process.pid}`
  const url = process.env.URL || `shm://${bus0}?dir=${dir}&idle=500${spin}`
  // QUEUES=1: a broker that announces queue protocol 1 (per-command Push/Reply and Ack), for A/B.
  if (!process.env.URL && process.env.QUEUES) {
    const server = new URL('../dist/broker-server.js', import.meta.url).href
    const paths = new URL('../dist/paths.js', import.meta.url).href
    const code = `const { startBroker } = await import(${JSON.stringify(server)})
      const { busPaths } = await import(${JSON.stringify(paths)})
      const quiet = () => {}
      const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet }
      await startBroker(busPaths(${JSON.stringify(bus0)}, ${JSON.stringify(dir)}), { logger, idleMs: 3000, onIdle: () => process.exit(0), queueProtocol: ${Number(process.env.QUEUES)} })
      process.stdout.write('ready\\n')`
    const broker = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise((resolve) => broker.stdout.once('data', resolve))
  } else if (!process.env.URL && process.execArgv.length > 0) {
    // With node flags (e.g. --cpu-prof) the broker is started here with the same flags.
    const main = fileURLToPath(new URL('../dist/broker-main.js', import.meta.url))
    const broker = spawn(
      process.execPath,
      [...process.execArgv, main, '--dir', dir, '--bus', bus0, '--idle', '3000'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    await new Promise((resolve) => broker.stdout.once('data', resolve))
  }
  const workers = Array.from({ length: nWorkers }, () =>
    spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--worker', url], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  )
  await Promise.all(workers.map((w) => new Promise((resolve) => w.stdout.once('data', resolve))))
  const bus = await connect(url)
  // The broker is a detached process, found by its command line (a bus that lost the race to
  // start it ran a second one, which exited at once): the one with the most CPU time is it.
  const tick = 1e6 / 100 // µs per clock tick (USER_HZ 100)
  const brokerCpu = () => {
    let most = -1
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
        if (!/broker-main|startBroker/.test(cmd) || !cmd.includes(bus0)) continue
        const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
        most = Math.max(most, (Number(f[11]) + Number(f[12])) * tick)
      } catch {
        // Gone meanwhile.
      }
    }
    return most
  }
  const brokerPid = brokerCpu() >= 0
  const cpu = async () => {
    const ws = await Promise.all(
      workers.map((w) => {
        const line = new Promise((resolve) => w.stdout.once('data', (d) => resolve(Number(String(d)))))
        w.stdin.write('cpu\n')
        return line
      }),
    )
    const u = process.cpuUsage()
    return {
      sender: u.user + u.system,
      workers: ws.reduce((a, b) => a + b, 0),
      broker: Math.max(0, brokerCpu()),
    }
  }
  const run = async (ms) => {
    let n = 0
    const end = performance.now() + ms
    const t = performance.now()
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          await bus.commands.send('q', 1)
          n++
        }
      }),
    )
    return { n, rate: n / ((performance.now() - t) / 1000) }
  }
  try {
    const warm = await run(1000)
    const c0 = await cpu()
    const { n, rate } = await run(seconds * 1000)
    const c1 = await cpu()
    const per = (k) => ((c1[k] - c0[k]) / n).toFixed(2)
    const total = ((c1.sender + c1.workers + c1.broker - c0.sender - c0.workers - c0.broker) / n).toFixed(2)
    console.log(
      `queue ${Math.round(rate)} cmd/s  ${total} cpu-µs/cmd (sender ${per('sender')}, workers ${per('workers')}, broker ${per('broker')}${brokerPid ? '' : ' not found'}); ${n + warm.n} commands in all`,
    )
  } finally {
    await bus.close()
    for (const w of workers) w.stdin.end()
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))))
    rmSync(dir, { recursive: true, force: true })
  }
}
