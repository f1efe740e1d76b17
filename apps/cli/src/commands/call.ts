/**
 * `unipc call <method> <json>`: calls a method on one of its servers and prints the result.
 * @module
 */
import type { Command } from '../cli/command.js'
import { parseJson } from '../cli/json.js'
import { toJson } from '../cli/output.js'

export const callCommand: Command = {
  name: 'call',
  summary: 'call a method (request/reply) and print the result',
  usage: ['call <method> [json] [--stream]'],
  description:
    'Calls the method with the JSON value (default null) on one of its servers and prints the result as\n' +
    'JSON. With --stream, prints each streamed item on its own line. A thrown error prints its name and\n' +
    'message and exits 1; no server exits 5.',
  options: {
    stream: { type: 'boolean', short: 's', description: 'a streaming method: print each item' },
  },
  examples: [`unipc call echo.echo '{"text":"hi"}'`, `unipc call camera.frames '{"n":3}' --stream`],
  arity: { min: 1, max: 2 },
  async run(ctx) {
    const [method, text] = ctx.args as [string, string | undefined]
    const data = text === undefined ? null : parseJson(text, 'the request data', 'call')
    await using bus = await ctx.connect()
    if (ctx.options.stream) {
      for await (const item of bus.requests.stream(method, data, { signal: ctx.signal }))
        ctx.out.line(toJson(item))
      return 0
    }
    ctx.out.line(toJson(await bus.requests.call(method, data, { signal: ctx.signal })))
    return 0
  },
}
