/**
 * `npm run demo [-- [names…] [--url <url>]]`: runs the demos (all by default) and exits 0 when
 * every one succeeded.
 * @module
 */
import { parseArgs } from 'node:util'
import { demos, runDemos } from './index.js'

const usage = `Usage: npm run demo -- [${demos.map((d) => d.name).join('|')}]... [--url <url>]
  --url <url>  transport (default: $UNIPC_URL, else the embedded default hub), e.g.
               unix:///tmp/hub.sock  redis://127.0.0.1:6400  shm://demo
Runs each demo in sequence and narrates its steps; exits 0 when all succeed, 1 otherwise.`

let parsed: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    options: { url: { type: 'string', short: 'u' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  })
}
try {
  parsed = parse()
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n${usage}\n`)
  process.exit(2)
}
if (parsed.values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
const unknown = parsed.positionals.filter((n) => !demos.some((d) => d.name === n))
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown demo ${unknown.join(', ')}\n${usage}\n`)
  process.exit(2)
}
const chosen =
  parsed.positionals.length > 0 ? demos.filter((d) => parsed.positionals.includes(d.name)) : demos
const started = performance.now()
const results = await runDemos(chosen, { url: parsed.values.url })
const failed = results.filter((r) => !r.ok)
const seconds = ((performance.now() - started) / 1000).toFixed(1)
process.stdout.write(
  `\n${failed.length === 0 ? 'all demos passed' : `${failed.length} demo(s) failed: ${failed.map((r) => r.name).join(', ')}`} in ${seconds} s\n`,
)
// Transports may keep sockets open a moment after close; the demo is over.
process.exit(failed.length === 0 ? 0 : 1)
