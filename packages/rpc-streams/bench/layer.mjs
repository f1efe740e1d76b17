/**
 * The typed layer alone, in CPU ns per call, without any transport or codec:
 *   npx tsc -p packages/rpc-streams/tsconfig.build.json && node packages/rpc-streams/bench/layer.mjs
 * A stand-in bus (a call resolves at once with the reply, `serve` hands out the handler) shows what
 * `createClient` and `serve` add around `bus.requests.call` and a raw handler: the client side's
 * wrapper and its result check, the server side's parameter check and context.
 * Numbers in the noise of micro.mjs (memory transport) are visible here; CPU time, not wall time,
 * so other load on the machine matters less.
 * `RS=<path of another build's index.js>` measures that build of rpc-streams instead (A/B).
 */
const { createClient, defineService, serve, t } = await import(process.env.RS ?? '@unipc/rpc-streams')

const methods = { echo: { params: t.object({ data: t.binary() }), result: t.binary() } }
const Echo = defineService({ name: 'l.Echo', methods })
const payload = new Uint8Array(64)
const handlers = new Map()
const reply = Promise.resolve(payload)
const bus = {
  transport: { name: 'memory', supports: {} },
  requests: {
    call: () => reply,
    // Like core: the result passes through mapResult before the one promise settles.
    callMapped: (_m, _d, _o, mapResult) => (mapResult ? Promise.resolve(mapResult(payload)) : reply),
    serve: async (method, handler) => {
      handlers.set(method, handler)
      return { close: async () => {} }
    },
  },
}
await serve(bus, Echo, { echo: ({ data }) => data })
const client = createClient(bus, Echo, { schema: 'off' })
const typedHandler = handlers.get('l.Echo.echo')
const rawHandler = (d) => d.data
const rctx = {
  id: 1,
  method: 'l.Echo.echo',
  sender: '',
  deadline: undefined,
  caller: 'x',
  redelivered: false,
  signal: undefined,
}
const N = 2_000_000

const cpuNs = (c0) => {
  const c = process.cpuUsage(c0)
  return (c.user + c.system) * 1000
}
/** CPU ns per handler call. */
function timeHandler(f) {
  const c0 = process.cpuUsage()
  let bytes = 0
  for (let i = 0; i < N; i++) bytes += f({ data: payload }, rctx).length
  if (bytes !== N * payload.length) throw new Error('wrong echo')
  return cpuNs(c0) / N
}
/** CPU ns per awaited call. */
async function timeCall(f) {
  const c0 = process.cpuUsage()
  for (let i = 0; i < N / 4; i++) await f({ data: payload })
  return cpuNs(c0) / (N / 4)
}
const identity = (x) => x
const rawCall = (p) => bus.requests.call('l.Echo.echo', p, undefined)
const thenCall = (p) => bus.requests.call('l.Echo.echo', p, undefined).then(identity)
const typedCall = (p) => client.echo(p)
const r = { srvRaw: [], srvTyped: [], cliRaw: [], cliThen: [], cliTyped: [] }
for (let k = 0; k < 7; k++) {
  r.srvRaw.push(timeHandler(rawHandler))
  r.srvTyped.push(timeHandler(typedHandler))
  r.cliRaw.push(await timeCall(rawCall))
  r.cliThen.push(await timeCall(thenCall))
  r.cliTyped.push(await timeCall(typedCall))
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(1)
console.log(
  `CPU ns/call: server raw ${med(r.srvRaw)} typed ${med(r.srvTyped)}; client raw ${med(r.cliRaw)} raw+then ${med(r.cliThen)} typed ${med(r.cliTyped)}`,
)
