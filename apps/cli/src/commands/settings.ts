/**
 * `unipc settings get|set|watch <component> [key] [value]`: a component's configuration.
 * @module
 */
import { type Command, intOption, untilAborted } from '../cli/command.js'
import { CliError, Exit, usageError } from '../cli/exit.js'
import { parseJsonOrText } from '../cli/json.js'
import { clock, toJson } from '../cli/output.js'

export const settingsCommand: Command = {
  name: 'settings',
  summary: "get, set or watch a component's settings",
  usage: [
    'settings get <component> [key]',
    'settings set <component> <key> <value>',
    'settings watch <component> [key] [--count n]',
  ],
  description:
    'get prints one setting as JSON (exit 5 when it is not set) or all of them as one JSON object.\n' +
    'set stores a value: JSON when it parses as JSON (42, true, {"a":1}), else the text as a string.\n' +
    'watch prints the current value first, then every change, one line each.',
  options: {
    count: { type: 'string', short: 'n', arg: 'n', description: 'watch: exit after n lines' },
  },
  examples: [
    'unipc settings set camera exposure 20',
    'unipc settings set camera mode night',
    'unipc settings get camera exposure',
    'unipc settings watch camera',
  ],
  arity: { min: 2, max: 4 },
  async run(ctx) {
    const [action, component, key, value] = ctx.args as [string, string, string?, string?]
    if (action === 'get') {
      if (value !== undefined) throw usageError('settings get takes <component> [key]', 'settings')
      await using bus = await ctx.connect()
      if (key === undefined) {
        ctx.out.line(toJson(await bus.settings.getAll(component)))
        return 0
      }
      const v = await bus.settings.get(component, key)
      if (v === undefined) throw new CliError(`setting ${component}.${key} is not set`, Exit.NotFound)
      ctx.out.line(toJson(v))
      return 0
    }
    if (action === 'set') {
      if (key === undefined || value === undefined)
        throw usageError('settings set needs <component> <key> <value>', 'settings')
      await using bus = await ctx.connect()
      await bus.settings.set(component, key, parseJsonOrText(value))
      return 0
    }
    if (action === 'watch') {
      if (value !== undefined) throw usageError('settings watch takes <component> [key]', 'settings')
      const count = intOption(ctx, 'count', 0)
      await using bus = await ctx.connect()
      const done = new AbortController()
      let seen = 0
      const source = key === undefined ? bus.settings.watch(component) : bus.settings.watch(component, key)
      const sub = source.subscribe({
        next: (v) => {
          ctx.out.line(
            ctx.options.json
              ? toJson({ t: Date.now(), component, key, value: v })
              : `${ctx.out.paint('dim', clock(Date.now()))} ${component}${key ? `.${key}` : ''} = ${toJson(v)}`,
          )
          if (count > 0 && ++seen >= count) done.abort()
        },
        error: (err) => {
          ctx.out.error(`watch failed: ${(err as Error).message}`)
          done.abort()
        },
      })
      await untilAborted(AbortSignal.any([ctx.signal, done.signal]))
      sub.unsubscribe()
      return 0
    }
    throw usageError(`unknown action '${action}': use get, set or watch`, 'settings')
  },
}
