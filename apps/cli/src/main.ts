/**
 * The `unipc` executable: runs the command line, stops long-running subcommands on Ctrl-C or
 * SIGTERM (exit 0), and exits with the documented code.
 * @module
 */
import { runCli } from './run.js'

const stop = new AbortController()
let stoppedAt = 0
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    // A second signal a moment later, while shutting down, means "now".
    if (stop.signal.aborted && Date.now() - stoppedAt > 500) process.exit(130)
    stoppedAt ||= Date.now()
    stop.abort()
  })
}
// A closed pipe (unipc monitor | head) is a normal way to stop.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') stop.abort()
})

const code = await runCli(process.argv.slice(2), stop.signal)
process.exitCode = code
// Connections and timers of transports must not keep a finished command alive.
setTimeout(() => process.exit(code), 2000).unref()
