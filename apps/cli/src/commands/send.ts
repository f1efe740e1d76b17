/**
 * `unipc send <component> <json>`: sends a command to a component's queue and prints the reply.
 * @module
 */
import type { Command } from '../cli/command.js'
import { parseJson } from '../cli/json.js'
import { toJson } from '../cli/output.js'

export const sendCommand: Command = {
  name: 'send',
  summary: "send a command to a component's queue and print the reply",
  usage: ['send <component> <json> [--queue sub] [--no-reply]'],
  description:
    "Pushes the JSON value as a command onto the component's queue; one of its workers takes it.\n" +
    'Prints the reply as JSON. The command waits in the queue until a worker exists, up to --timeout.',
  options: {
    queue: { type: 'string', short: 'q', arg: 'sub', description: 'a sub-queue of the component, e.g. high' },
    'no-reply': { type: 'boolean', description: 'fire and forget: exit once the command is queued' },
  },
  examples: [`unipc send camera '{"op":"snap"}'`, `unipc send camera '{"op":"reset"}' --no-reply`],
  arity: { min: 2, max: 2 },
  async run(ctx) {
    const [component, text] = ctx.args as [string, string]
    const command = parseJson(text, 'the command', 'send')
    await using bus = await ctx.connect()
    const reply = await bus.commands.send(component, command, {
      queue: ctx.options.queue as string | undefined,
      noReply: ctx.options['no-reply'] === true,
      signal: ctx.signal,
    })
    if (!ctx.options['no-reply']) ctx.out.line(toJson(reply))
    return 0
  },
}
