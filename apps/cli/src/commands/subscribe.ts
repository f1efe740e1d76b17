/**
 * `unipc subscribe <pattern>`: prints events as they arrive.
 * @module
 */
import { type Command, intOption, untilAborted } from '../cli/command.js'
import { clock, toJson } from '../cli/output.js'

export const subscribeCommand: Command = {
  name: 'subscribe',
  summary: 'print events on channels matching a pattern',
  usage: ['subscribe <pattern> [--count n] [--json]'],
  description:
    'Subscribes to the pattern and prints each event: time, channel, data. Patterns: `a.b` exact,\n' +
    "`a.*` one token, `a.>` one or more tokens, `>` everything (except unipc's own $-channels).",
  options: {
    count: { type: 'string', short: 'n', arg: 'n', description: 'exit after n events' },
  },
  examples: ['unipc subscribe "camera.>"', 'unipc subscribe ">" --json --count 10'],
  arity: { min: 1, max: 1 },
  async run(ctx) {
    const count = intOption(ctx, 'count', 0)
    await using bus = await ctx.connect()
    const done = new AbortController()
    const sub = bus.events.subscribe(ctx.args[0] as string, { signal: ctx.signal })
    let seen = 0
    sub.subscribe({
      next: (e) => {
        ctx.out.line(
          ctx.options.json
            ? toJson({ t: Date.now(), channel: e.channel, data: e.data })
            : `${ctx.out.paint('dim', clock(Date.now()))} ${ctx.out.paint('cyan', e.channel)} ${toJson(e.data)}`,
        )
        if (count > 0 && ++seen >= count) done.abort()
      },
      error: () => done.abort(),
      complete: () => done.abort(),
    })
    await sub.ready
    ctx.out.error(ctx.out.paint('dim', `subscribed to ${ctx.args[0]} on ${ctx.url} (Ctrl-C to stop)`))
    await untilAborted(AbortSignal.any([ctx.signal, done.signal]))
    await sub.close()
    return 0
  },
}
