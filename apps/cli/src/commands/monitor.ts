/**
 * `unipc monitor [pattern]`: every command, reply, request, response, setting and status change
 * and event on the bus, one line each.
 * @module
 */
import { monitor, TRACE_KINDS, type TraceKind } from '@unipc/core'
import { type Command, intOption, untilAborted } from '../cli/command.js'
import { usageError } from '../cli/exit.js'
import { formatTrace, jsonTrace } from '../trace-line.js'

export const monitorCommand: Command = {
  name: 'monitor',
  summary: 'show all traffic on the bus, live',
  usage: ['monitor [pattern] [--kind k,k] [--count n] [--json]'],
  description:
    'Prints one line per command, reply, request, response, setting change, status change and event, on\n' +
    'any transport: time, kind, source → target, #call id, compact payload, (round trip). Buses trace\n' +
    'only while a monitor runs. The pattern filters on source or target: `camera` shows traffic from and\n' +
    'to camera and its camera.* methods and events; `*.alarm` uses the event pattern syntax.',
  options: {
    kind: {
      type: 'string',
      short: 'k',
      arg: 'kinds',
      description: `only these kinds: ${TRACE_KINDS.join(',')}`,
    },
    count: { type: 'string', short: 'n', arg: 'n', description: 'exit after n lines' },
  },
  examples: [
    'unipc monitor',
    'unipc monitor camera',
    'unipc monitor --kind command,reply --json | jq .',
    'UNIPC_URL=redis://127.0.0.1:6400 unipc monitor',
  ],
  arity: { min: 0, max: 1 },
  async run(ctx) {
    const kinds = parseKinds(ctx.options.kind as string | undefined)
    const count = intOption(ctx, 'count', 0)
    await using bus = await ctx.connect()
    const m = monitor(bus, { pattern: ctx.args[0], kinds, signal: ctx.signal })
    let seen = 0
    const done = new AbortController()
    m.subscribe({
      next: (r) => {
        ctx.out.line(ctx.options.json ? jsonTrace(r) : formatTrace(ctx.out, r))
        if (count > 0 && ++seen >= count) done.abort()
      },
      error: () => done.abort(),
    })
    await m.ready
    ctx.out.error(ctx.out.paint('dim', `monitoring ${ctx.url} (Ctrl-C to stop)`))
    await untilAborted(AbortSignal.any([ctx.signal, done.signal]))
    await m.close()
    return 0
  },
}

function parseKinds(text: string | undefined): TraceKind[] | undefined {
  if (text === undefined) return undefined
  const kinds = text.split(',').map((k) => k.trim())
  for (const k of kinds)
    if (!TRACE_KINDS.includes(k as TraceKind))
      throw usageError(`unknown kind '${k}'; kinds are ${TRACE_KINDS.join(', ')}`, 'monitor')
  return kinds as TraceKind[]
}
