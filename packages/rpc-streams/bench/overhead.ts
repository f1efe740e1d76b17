/**
 * Typed-client overhead over raw `bus.requests.call`, in one process over a real transport:
 *   npx turbo run build && node --import tsx packages/rpc-streams/bench/overhead.ts [socket|shm|memory] [inFlight]
 * (without `--conditions=source` the packages load from their built dist/, as users run them; tsx
 * only compiles this script). Alternates rounds of the same echo (64 B): raw (bytes), raw with the
 * typed call's body (`{ data }`: what the codec adds) and typed, and prints the median CPU time per
 * call of each (client, server and hub all run here, so CPU time is the cost of a call whatever
 * else loads the machine) and the ratios. `OFF=validate,schema` turns defaults off and `IDEM=1` forces the reply cache on, to see what
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
await server.requests.serve('overhead.rawobj', (d: { data: Uint8Array }) => d.data)
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
const rawObj = () => caller.requests.call('overhead.rawobj', { data: payload })
const typedCall = () => typed.echo({ data: payload })
const calls = Number(process.env.CALLS ?? 20_000)
await round(raw, calls / 4)
await round(rawObj, calls / 4)
await round(typedCall, calls / 4)
const r: number[] = []
const o: number[] = []
const ty: number[] = []
for (let i = 0; i < 7; i++) {
  r.push(await round(raw, calls))
  o.push(await round(rawObj, calls))
  ty.push(await round(typedCall, calls))
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number
const [mr, mo, mt] = [median(r), median(o), median(ty)]
console.log(
  `${kind} inFlight=${inFlight}: CPU per call raw ${mr.toFixed(1)} µs, raw { data } ${mo.toFixed(1)} µs, typed ${mt.toFixed(1)} µs: typed/raw ${(mt / mr).toFixed(3)} (codec ${(mo / mr).toFixed(3)}, typed layer ${(mt / mo).toFixed(3)})`,
)
await caller.close()
await server.close()
await stop()
rmSync(dir, { recursive: true, force: true })
