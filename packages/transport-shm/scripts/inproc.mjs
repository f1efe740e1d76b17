// CPU per pipelined request (64 in flight) with caller and server buses in ONE process, on built
// dist code (run `npx turbo run build` first):
//   node packages/transport-shm/scripts/inproc.mjs [spi|core] [seconds]
// The two buses still talk over a real direct link (shm rings), but one thread does both sides, so
// there is no scheduling noise and no polling: the CPU time is the work of both sides, which makes
// A/B comparisons on a loaded machine readable (the two-process micro.mjs swings by 2x there).
// `spi` drives the transport's messaging SPI alone (dispatch, serve, send: the transport's own
// cost); `core` goes through @unipc/core's requests. SHM_DIST=<path to a dist/index.js> measures
// another build (e.g. a copy of dist made before a change). HEAPPROF=1 adds the bytes allocated
// per request by function (sampling heap profiler, including objects already collected).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@unipc/core'

const { createTransport } = await import(process.env.SHM_DIST ?? '@unipc/transport-shm')
const mode = process.argv[2] ?? 'spi'
const seconds = Number(process.argv[3] ?? 2)
const dir = mkdtempSync(join(tmpdir(), 'shm-inproc-'))
const url = new URL(`shm://inproc${process.pid}?dir=${dir}&idle=500`)
const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const context = { component: undefined, logger: quiet, onState() {} }
let n = 0
let running = true
let start
let stop

if (mode === 'spi') {
  const server = createTransport(url)
  const caller = createTransport(url)
  await server.open(context)
  await caller.open(context)
  const to = caller.messaging.address
  await server.messaging.serve('echo', (d) => {
    server.messaging.send(to, d.data)
    d.ack()
  })
  const payload = new Uint8Array(100)
  let inflight = 0
  let drained = () => {}
  caller.messaging.onMessage(() => {
    n++
    inflight--
    if (running) {
      inflight++
      caller.messaging.dispatch('echo', payload)
    } else if (inflight === 0) drained()
  })
  start = () => {
    for (let i = 0; i < 64; i++) {
      inflight++
      caller.messaging.dispatch('echo', payload)
    }
  }
  stop = async () => {
    running = false
    if (inflight > 0) await new Promise((r) => (drained = r))
    await caller.close()
    await server.close()
  }
} else {
  const server = await connect(createTransport(url))
  const caller = await connect(createTransport(url))
  await server.requests.serve('echo', (d) => d)
  const p64 = new Uint8Array(64)
  for (let i = 0; i < 2000; i++) await caller.requests.call('echo', p64)
  let all
  start = () => {
    all = Promise.all(
      Array.from({ length: 64 }, async () => {
        while (running) {
          await caller.requests.call('echo', p64)
          n++
        }
      }),
    )
  }
  stop = async () => {
    running = false
    await all
    await caller.close()
    await server.close()
  }
}

start()
await new Promise((r) => setTimeout(r, 300))
if (process.env.HEAPPROF) await allocations()
const n0 = n
const u0 = process.cpuUsage()
const t0 = performance.now()
await new Promise((r) => setTimeout(r, seconds * 1000))
const u1 = process.cpuUsage()
const ops = n - n0
const perOp = (u1.user + u1.system - u0.user - u0.system) / ops
console.log(
  `${mode} x64 ${Math.round(ops / ((performance.now() - t0) / 1000))} req/s ${perOp.toFixed(3)} cpu-µs/req (both sides, one process)`,
)
await stop()
rmSync(dir, { recursive: true, force: true })

/** Samples allocations for half a second and prints bytes per request by function. */
async function allocations() {
  const { Session } = await import('node:inspector/promises')
  const session = new Session()
  session.connect()
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  })
  const from = n
  await new Promise((r) => setTimeout(r, 500))
  const { profile } = await session.post('HeapProfiler.stopSampling')
  session.disconnect()
  const requests = n - from
  const bytes = new Map()
  const walk = (node) => {
    const f = node.callFrame
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`
    if (node.selfSize) bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize)
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  let total = 0
  for (const v of bytes.values()) total += v
  console.log(`allocated ${(total / requests).toFixed(0)} B/req`)
  for (const [key, v] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${(v / requests).toFixed(1).padStart(8)} B/req  ${key}`)
}
