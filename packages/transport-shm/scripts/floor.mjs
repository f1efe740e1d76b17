// The floor under the shm round trip: a 64 B ping-pong between two processes with no unipc core,
// over the addon's ring + FIFO doorbell, and the same over a plain node:net unix socket.
//   node packages/transport-shm/scripts/floor.mjs [seconds]
// Both sides sleep in epoll between messages, as the transport does (no spinning). What unipc
// adds on top of the shm figure is core + transport JavaScript; the socket figure is what the
// net-msgpack baseline stands on.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = join(fileURLToPath(import.meta.url), '..', '..')
const addon = require('node-gyp-build')(root)
const [, , role, arg1, arg2, arg3] = process.argv
const payload = new Uint8Array(64)

/** Drains `link`, calling `onBatch(buffer)` per batch, and returns once it is empty and armed. */
function drain(link, onBatch) {
  for (;;) {
    const batch = link.read(1 << 16, true)
    if (!batch) return
    onBatch(batch)
  }
}

if (role === '--shm-echo') {
  // arg1: segment, arg2: our bell, arg3: the caller's bell
  const link = addon.Link.open(arg1, 1 << 20)
  const bell = new addon.Bell(arg2)
  link.setPeerBell(addon.openPeerBell(arg3))
  const echo = () =>
    drain(link, (b) => {
      for (let at = 0; at < b.length; ) {
        const len = b.readUInt32LE(at)
        link.write(1, b.subarray(at + 8, at + 8 + len))
        at += 8 + len
      }
    })
  bell.start(echo)
  echo()
  process.stdout.write('ready\n')
  process.stdin.on('end', () => {
    bell.close()
    link.close()
    process.exit(0)
  })
  process.stdin.resume()
} else if (role === '--net-echo') {
  const server = net.createServer((s) => {
    s.setNoDelay(true)
    s.on('data', (d) => s.write(d))
  })
  server.listen(arg1, () => process.stdout.write('ready\n'))
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
} else {
  const seconds = Number(role ?? 2)
  const dir = mkdtempSync(join(tmpdir(), 'shm-floor-'))
  const measure = async (kind) => {
    const segment = `/unipc-floor-${process.pid}-${kind}`
    const sock = join(dir, `${kind}.sock`)
    const myBell = join(dir, `${kind}.caller.bell`)
    const theirBell = join(dir, `${kind}.echo.bell`)
    const link = kind === 'shm' ? addon.Link.create(segment, 1 << 16) : undefined
    const bell = kind === 'shm' ? new addon.Bell(myBell) : undefined
    const args = kind === 'shm' ? ['--shm-echo', segment, theirBell, myBell] : ['--net-echo', sock]
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    await new Promise((r) => child.stdout.once('data', r))
    const times = []
    let cpu0
    await new Promise((done) => {
      let sent = 0
      let n = 0
      let send
      const end = performance.now() + 500 + seconds * 1000
      const next = () => {
        if (n === 2000) cpu0 = process.cpuUsage()
        if (performance.now() > end) return done()
        sent = performance.now()
        send()
      }
      const reply = () => {
        if (n++ >= 2000) times.push(performance.now() - sent)
        next()
      }
      if (kind === 'shm') {
        link.setPeerBell(addon.openPeerBell(theirBell))
        send = () => link.write(1, payload)
        const onRing = () => drain(link, reply)
        bell.start(onRing)
        onRing()
      } else {
        const s = net.connect(sock)
        s.setNoDelay(true)
        send = () => s.write(payload)
        s.on('data', reply)
      }
      setTimeout(next, 50)
    })
    const cpu = process.cpuUsage(cpu0)
    times.sort((a, b) => a - b)
    const p50 = (times[times.length >> 1] * 1000).toFixed(1)
    const perOp = ((cpu.user + cpu.system) / times.length).toFixed(1)
    console.log(
      `${kind.padEnd(3)} round trip p50 ${p50} µs (${times.length} calls), caller ${perOp} cpu-µs/op`,
    )
    child.stdin.end()
    await new Promise((r) => child.once('exit', r))
    if (kind === 'shm') {
      bell.close()
      link.close()
      addon.unlinkSegment(segment)
    }
  }
  try {
    await measure('shm')
    await measure('net')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
