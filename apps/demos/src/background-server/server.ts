/**
 * The background server (bgpy's server): started by a script, keeps running after it exits, holds
 * state changed by exec tasks, and stops on an exit task. The token comes from the environment
 * (UNIPC_DEMO_TOKEN) so it does not show in `ps`.
 *
 * Run: node --conditions=source --import tsx server.ts --name <name> [--url <url>]
 * @module
 */
import { timingSafeEqual } from 'node:crypto'
import { parseArgs } from 'node:util'
import { connect } from '@unipc/core'
import { serve } from '@unipc/rpc-streams'
import { BadToken, backgroundService, TaskRefused } from './protocol.js'

const { values } = parseArgs({ options: { name: { type: 'string' }, url: { type: 'string' } } })
const name = values.name ?? 'worker'
const token = Buffer.from(process.env.UNIPC_DEMO_TOKEN ?? '')
if (token.length === 0) {
  process.stderr.write('background server: set UNIPC_DEMO_TOKEN\n')
  process.exit(2)
}

const check = (given: string): void => {
  const g = Buffer.from(given)
  if (g.length !== token.length || !timingSafeEqual(g, token)) throw new BadToken({})
}

const options = { component: `bg-${name}` }
const bus = values.url ? await connect(values.url, options) : await connect(options)
let state: { counter: number; log: string[] } | undefined
let stopping = false

await serve(bus, backgroundService(name), {
  init({ token: t, counter }) {
    check(t)
    state = { counter, log: [`init ${counter}`] }
    return state
  },
  exec({ token: t, op, arg }) {
    check(t)
    if (!state) throw new TaskRefused({ reason: 'exec before init' })
    if (op === 'add') state.counter += Number(arg)
    state.log.push(`${op} ${arg}`)
    return state
  },
  exit({ token: t }) {
    check(t)
    stopping = true
    // Reply first, then close: the caller gets the process id of the server that is going away.
    setTimeout(() => void bus.close().then(() => process.exit(0)), 50)
    return process.pid
  },
})
await bus.status.update({ pid: process.pid, state: 'ready' })
// The starting script waits for this line (or for the status above) before it exits.
process.stdout.write(`ready ${process.pid}\n`)
process.on('SIGTERM', () => {
  if (!stopping) void bus.close().then(() => process.exit(0))
})
