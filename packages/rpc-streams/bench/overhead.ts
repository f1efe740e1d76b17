/**
 * Typed-client overhead over raw `bus.requests.call`, in one process over a real transport:
 *   node --conditions=source --import tsx packages/rpc-streams/bench/overhead.ts [socket|shm|memory] [inFlight]
 * Alternates raw and typed rounds of the same echo (64 B) and prints the median CPU time per call of
 * each (client, server and hub all run here, so CPU time is the cost of a call whatever else loads
 * the machine) and their ratio. `OFF=validate,schema` turns defaults off and `IDEM=1` forces the reply cache on, to see what
 * they cost.
 * A quick local check; `npm run bench` (systems `unipc typed …`) measures rates across processes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Bus, connect } from '@unipc/core'
import { createClient, defineService, serve, t } from '@unipc/rpc-streams'

const kind = process.argv[2] ?? 'socket'
const inFlight = Number(process.argv[3] ?? 64)
const dir = mkdtempSync(join(tmpdir(), 'rpc-overhead-'))
let stop = async (): Promise<void> => {}
let url: string
if (kind === 'socket') {
  const { startHub } = await import('@unipc/transport-socket')
  url = `unix://${join(dir, 'hub.sock')}`
  const hub = await startHub({ listen: [url] })
  stop = () => hub.close()
} else if (kind === 'shm') url = `shm://overhead-${process.pid}?dir=${dir}`
else url = 'memory://overhead'

const Echo = defineService({
  name: 'overhead.Echo',
  methods: { echo: { params: t.object({ data: t.binary() }), result: t.binary() } },
})
const server: Bus = await connect(url, { component: 'server' })
const caller: Bus = await connect(url, { component: 'caller' })
await server.requests.serve('overhead.raw', (d) => d)
const off = (process.env.OFF ?? '').split(',')
await serve(
  server,
  Echo,
  { echo: ({ data }) => data },
  {
    idempotency: off.includes('idem') ? false : process.env.IDEM === '1' ? true : undefined,
    validate: !off.includes('validate'),
  },
)
const typed = createClient(caller, Echo, {
  validate: !off.includes('validate'),
  schema: off.includes('schema') ? 'off' : 'strict',
})
const payload = new Uint8Array(64)

/** Runs `call` with `inFlight` calls in flight for `n` calls; returns CPU µs per call (all sides are in this process). */
async function round(call: () => Promise<unknown>, n: number): Promise<number> {
  let started = 0
  const cpu0 = process.cpuUsage()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < n) {
        started++
        await call()
      }
    }),
  )
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / started
}

const raw = () => caller.requests.call('overhead.raw', payload)
const typedCall = () => typed.echo({ data: payload })
const calls = Number(process.env.CALLS ?? 20_000)
await round(raw, calls / 4)
await round(typedCall, calls / 4)
const r: number[] = []
const ty: number[] = []
for (let i = 0; i < 7; i++) {
  r.push(await round(raw, calls))
  ty.push(await round(typedCall, calls))
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number
console.log(
  `${kind} inFlight=${inFlight}: CPU per call raw ${median(r).toFixed(1)} µs, typed ${median(ty).toFixed(1)} µs: typed/raw ${(median(ty) / median(r)).toFixed(3)}`,
)
await caller.close()
await server.close()
await stop()
rmSync(dir, { recursive: true, force: true })
