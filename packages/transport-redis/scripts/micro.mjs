// Micro benchmark of the Redis transport on built dist code (run `npx turbo run build` first):
//   node packages/transport-redis/scripts/micro.mjs [rtt|fanout|all] [seconds] [unix|tcp] [reps]
// Starts its own redis-server (unix socket and a free TCP port, under $TMPDIR), runs the server or
// subscriber side in child processes and drives them from this one, interleaving unipc with plain
// ioredis doing the same job (rtt: LPUSH + BRPOP lists, as apps/bench; fan-out: PUBLISH/SUBSCRIBE).
// Reports wall-clock p50 / rates and the CPU time each process (this one, the children, redis-server)
// spent per operation, which is steadier than wall time on a loaded machine. Profile with
// `UNIPC_MICRO_PROF=dir node …` (every node process writes a --cpu-prof profile there).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@unipc/core'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'

const here = fileURLToPath(import.meta.url)
const prof = process.env.UNIPC_MICRO_PROF
const profArgs = (name) =>
  prof
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${prof}`,
        `--cpu-prof-name=${name}-${process.hrtime.bigint()}.cpuprofile`,
      ]
    : []
const packr = new Packr({ useRecords: false })

// MICRO_LAT=1: every process measures how long its JS takes from receiving data on any socket to the
// next write (read → write latency on the critical path), and prints the mean when asked.
const lat = { last: 0, sum: 0, n: 0 }
if (process.env.MICRO_LAT) {
  const emit = Socket.prototype.emit
  Socket.prototype.emit = function (ev, ...a) {
    if (ev === 'data') lat.last = performance.now()
    return emit.call(this, ev, ...a)
  }
  for (const m of ['_write', '_writev']) {
    const orig = Socket.prototype[m]
    Socket.prototype[m] = function (...a) {
      if (lat.last !== 0) {
        lat.sum += performance.now() - lat.last
        lat.n++
        lat.last = 0
      }
      return orig.apply(this, a)
    }
  }
}
/**
 * Connects a bus; MICRO_TRANSPORT=<path of a built transport's index.js> uses that build instead of
 * the installed package (A/B of two versions in one run: `MICRO_KINDS=unipc,unipc@MICRO_OLD` with
 * MICRO_OLD naming the other build's path through MICRO_TRANSPORT_MICRO_OLD).
 */
async function open(url) {
  const alt = Object.keys(process.env)
    .filter((k) => k.startsWith('MICRO_TRANSPORT_') && process.env[k.slice('MICRO_TRANSPORT_'.length)])
    .map((k) => process.env[k])[0]
  if (!alt) return connect(url)
  const { createTransport } = await import(alt)
  return connect(createTransport(new URL(url), {}))
}

const latReport = () => (lat.n ? `read→write ${((lat.sum / lat.n) * 1000).toFixed(1)} µs` : '')
const SUBSCRIBERS = 4
const WINDOW = 4096

const role = process.argv[2]

/** A child process: an echo server or a fan-out subscriber, of one kind (unipc or ioredis). */
async function child(what, url, kind) {
  const opts = redisOpts(url)
  let close
  if (what === '--server' && kind === 'unipc') {
    const bus = await open(url)
    await bus.requests.serve('echo', (d) => d)
    close = () => bus.close()
  } else if (what === '--server') {
    const writer = new Redis(opts)
    const blocking = new Redis(opts)
    let closed = false
    void (async () => {
      while (!closed) {
        const r = await blocking.brpopBuffer('micro:echo', 0).catch(() => null)
        if (!r) continue
        const item = packr.unpack(r[1])
        void writer.lpush(item[0], packr.pack([item[1], item[2]]))
      }
    })()
    close = () => {
      closed = true
      blocking.disconnect()
      writer.disconnect()
    }
  } else {
    let n = 0
    const onEvent = () => {
      if (++n % 128 === 0) process.stdout.write(`${n}\n`)
    }
    if (kind === 'unipc') {
      const bus = await open(url)
      const sub = bus.events.subscribe('micro.fanout')
      sub.subscribe(onEvent)
      await sub.ready
      close = () => bus.close()
    } else {
      const r = new Redis(opts)
      r.on('messageBuffer', onEvent)
      await r.subscribe('micro.fanout')
      close = () => r.disconnect()
    }
  }
  process.stdout.write('ready\n')
  process.stdin.on('data', () => {
    process.stdout.write(`lat ${latReport()}\n`)
    lat.sum = 0
    lat.n = 0
  })
  process.stdin.on('end', () => void Promise.resolve(close()).then(() => process.exit(0)))
  process.stdin.resume()
}

function redisOpts(url) {
  const u = new URL(url)
  return u.protocol === 'redis+unix:' ? { path: u.pathname } : { host: u.hostname, port: Number(u.port) }
}

/** User + system CPU µs and voluntary context switches (sleeps: each is one wake-up later) of a process. */
const usage = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const sw = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  const threads = {}
  if (process.env.MICRO_THREADS)
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const g = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')
      const name = `${g[0].split('(')[1]}`
      const h = g[1].split(' ')
      threads[`${name}#${t}`] = (Number(h[11]) + Number(h[12])) * 10_000
    }
  return { user: Number(f[11]) * 10_000, sys: Number(f[12]) * 10_000, wakes: Number(sw?.[1] ?? 0), threads }
}

function spawnChild(args, name) {
  const c = spawn(process.execPath, [...profArgs(name), here, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  return new Promise((resolve) => {
    let buf = ''
    const onData = (d) => {
      buf += d
      if (buf.includes('ready\n')) {
        c.stdout.off('data', onData)
        resolve(c)
      }
    }
    c.stdout.on('data', onData)
  })
}

async function stopChild(c) {
  const exited = new Promise((r) => c.once('exit', r))
  c.stdin.end()
  await exited
}

async function freePort() {
  const s = createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const port = s.address().port
  await new Promise((r) => s.close(r))
  return port
}

async function main() {
  const what = role ?? 'all'
  const seconds = Number(process.argv[3] ?? 2)
  const link = process.argv[4] ?? 'unix'
  const reps = Number(process.argv[5] ?? 2)
  const dir = mkdtempSync(join(tmpdir(), 'redis-micro-'))
  const sock = join(dir, 'redis.sock')
  const port = await freePort()
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
  for (let i = 0; ; i++) {
    const probe = new Redis({ ...redisOpts(url), lazyConnect: true, retryStrategy: () => null })
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
  try {
    for (let rep = 0; rep < reps; rep++) {
      // A kind `unipc@NAME` runs unipc with the environment variable NAME=1 in every process (A/B of a switch).
      for (const variant of (process.env.MICRO_KINDS ?? 'unipc,ioredis').split(',')) {
        const [kind, flag] = variant.split('@')
        if (flag) process.env[flag] = '1'
        if (what === 'rtt' || what === 'all') await rtt(url, kind, seconds, redis.pid, variant)
        if (what === 'fanout' || what === 'all') await fanout(url, kind, seconds, redis.pid, variant)
        if (flag) delete process.env[flag]
      }
    }
  } finally {
    redis.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Prints CPU µs (user+sys) and wake-ups per operation of each process between snapshots `c0` and `c1`. */
function report(name, rate, unit, n, c0, c1, extra = '') {
  const per = (k, f) => (c1[k][f] - c0[k][f]) / n
  const parts = Object.keys(c0).map(
    (k) =>
      `${k} ${(per(k, 'user') + per(k, 'sys')).toFixed(0)} (sys ${per(k, 'sys').toFixed(0)}) w${per(k, 'wakes').toFixed(2)}`,
  )
  console.log(`${name.padEnd(14)} ${rate.padStart(6)} ${unit}  per op: ${parts.join(' | ')}${extra}`)
  if (process.env.MICRO_THREADS) {
    const th = (k) =>
      Object.keys(c1[k].threads ?? {}).map(
        (t) => `${t} ${((c1[k].threads[t] - (c0[k].threads[t] ?? 0)) / n).toFixed(0)}`,
      )
    for (const k of Object.keys(c0)) if (c1[k].threads) console.log(`   ${k} threads: ${th(k).join(', ')}`)
  }
}

async function rtt(url, kind, seconds, redisPid, variant) {
  const server = await spawnChild(['--server', url, kind], `server-${kind}`)
  let call
  let close
  if (kind === 'unipc') {
    const bus = await open(url)
    call = (p) => bus.requests.call('echo', p)
    close = () => bus.close()
  } else {
    const opts = redisOpts(url)
    const writer = new Redis(opts)
    const blocking = new Redis(opts)
    const replies = `micro:reply:${process.pid}`
    const pending = new Map()
    let next = 0
    let closed = false
    void (async () => {
      while (!closed) {
        const r = await blocking.brpopBuffer(replies, 0).catch(() => null)
        if (!r) continue
        const [id, body] = packr.unpack(r[1])
        pending.get(id)?.(body)
        pending.delete(id)
      }
    })()
    call = (p) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, resolve)
        writer.lpush('micro:echo', packr.pack([replies, id, p])).catch(reject)
      })
    close = () => {
      closed = true
      blocking.disconnect()
      writer.disconnect()
    }
  }
  const p = new Uint8Array(64)
  const warm = performance.now() + 1000
  while (performance.now() < warm) await call(p)
  const cpu = () => ({ caller: usage(process.pid), server: usage(server.pid), redis: usage(redisPid) })
  const times = []
  const serverLat = () =>
    new Promise((resolve) => {
      server.stdout.once('data', (d) =>
        resolve(
          String(d)
            .trim()
            .replace(/^lat ?/, ''),
        ),
      )
      server.stdin.write('?')
    })
  if (process.env.MICRO_LAT) await serverLat()
  lat.sum = 0
  lat.n = 0
  const c0 = cpu()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  while (performance.now() < end) {
    const s = performance.now()
    await call(p)
    times.push(performance.now() - s)
  }
  const c1 = cpu()
  const extra = process.env.MICRO_LAT ? `\n   caller ${latReport()} | server ${await serverLat()}` : ''
  times.sort((a, b) => a - b)
  const p50 = times[times.length >> 1] * 1000
  report(`rtt ${variant}`, p50.toFixed(0), 'µs p50', times.length, c0, c1, extra)
  await close()
  await stopChild(server)
}

async function fanout(url, kind, seconds, redisPid, variant) {
  const subs = []
  for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await spawnChild(['--sub', url, kind], `sub-${kind}-${i}`))
  const seen = subs.map(() => 0)
  let wake
  subs.forEach((s, i) => {
    let buf = ''
    s.stdout.on('data', (d) => {
      buf += d
      const lines = buf.split('\n')
      buf = lines.pop()
      if (lines.length > 0) seen[i] = Number(lines[lines.length - 1])
      wake?.()
    })
  })
  let publish
  let close
  if (kind === 'unipc') {
    const bus = await open(url)
    publish = (p) => bus.events.publish('micro.fanout', p)
    close = () => bus.close()
  } else {
    const r = new Redis(redisOpts(url))
    publish = (p) => r.publish('micro.fanout', Buffer.from(p))
    close = () => r.disconnect()
  }
  const payload = new Uint8Array(1024)
  let sent = 0
  let pending = 0
  const phase = async (ms) => {
    const end = performance.now() + ms
    while (performance.now() < end) {
      let burst = 0
      while (sent - Math.min(...seen) < WINDOW && pending < 256 && burst < 256) {
        sent++
        pending++
        void publish(payload).then(() => pending--)
        burst++
      }
      if (sent - Math.min(...seen) >= WINDOW)
        await new Promise((r) => {
          wake = r
          setTimeout(r, 50)
        })
      else await new Promise((r) => setImmediate(r))
    }
  }
  await phase(1000)
  const cpu = () => {
    const c = { pub: usage(process.pid), redis: usage(redisPid), subs: { user: 0, sys: 0, wakes: 0 } }
    for (const sub of subs) {
      const u = usage(sub.pid)
      for (const k of ['user', 'sys', 'wakes']) c.subs[k] += u[k]
    }
    return c
  }
  const c0 = cpu()
  const s0 = Math.min(...seen)
  const t0 = performance.now()
  await phase(seconds * 1000)
  const ms = performance.now() - t0
  const c1 = cpu()
  const got = Math.min(...seen) - s0
  report(`fanout ${variant}`, ((got / ms) * 1000).toFixed(0), 'ev/s/sub', got, c0, c1, ' (subs: sum of 4)')
  await close()
  for (const s of subs) await stopChild(s)
}

if (role === '--server' || role === '--sub') await child(role, process.argv[3], process.argv[4])
else await main()
