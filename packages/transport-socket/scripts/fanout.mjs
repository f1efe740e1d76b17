// Fan-out micro benchmark on built dist code: hub (built bin) and 4 subscriber processes; this
// process publishes 1 KiB events, at most 4096 ahead of the slowest subscriber.
//   node packages/transport-socket/scripts/fanout.mjs [seconds]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'

const here = fileURLToPath(import.meta.url)
if (process.argv[2] === '--sub') {
  const bus = await connect(process.argv[3], { liveness: false })
  let n = 0
  const s = bus.events.subscribe('fan.x')
  s.subscribe(() => {
    if (++n % 128 === 0) process.stdout.write(`${n}\n`)
  })
  await s.ready
  process.stdout.write('ready\n')
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
} else {
  const seconds = Number(process.argv[2] ?? 2)
  const dir = mkdtempSync(join(tmpdir(), 'sock-fan-'))
  const url = `unix://${join(dir, 'hub.sock')}`
  const hub = spawn(
    process.execPath,
    [join(dirname(here), '..', 'dist', 'bin', 'unipc-hub.js'), '--listen', url, '--quiet'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise((r) => hub.stdout.once('data', r))
  const counts = [0, 0, 0, 0]
  const subs = await Promise.all(
    counts.map(
      (_, i) =>
        new Promise((resolve) => {
          const c = spawn(process.execPath, [...process.execArgv, here, '--sub', url], {
            stdio: ['pipe', 'pipe', 'inherit'],
          })
          let buf = ''
          c.stdout.on('data', (d) => {
            buf += d
            const lines = buf.split('\n')
            buf = lines.pop()
            for (const l of lines)
              if (l === 'ready') resolve(c)
              else counts[i] = Number(l)
          })
        }),
    ),
  )
  const bus = await connect(url, { liveness: false })
  const p = new Uint8Array(1024)
  let sent = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  while (performance.now() < end) {
    let burst = 0
    while (sent - Math.min(...counts) < 4096 && burst < 256) {
      bus.events.publish('fan.x', p)
      sent++
      burst++
    }
    await new Promise((r) => setImmediate(r))
  }
  const ms = performance.now() - t0
  console.log(`fanout ${((Math.min(...counts) / ms) * 1000).toFixed(0)} ev/s per subscriber (sent ${sent})`)
  await bus.close()
  for (const c of subs) c.stdin.end()
  hub.kill('SIGTERM')
  await new Promise((r) => hub.once('exit', r))
  rmSync(dir, { recursive: true, force: true })
}
