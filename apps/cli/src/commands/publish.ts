/**
 * `unipc publish <channel> <json>`: publishes one event.
 * @module
 */
import type { Command } from '../cli/command.js'
import { parseJson } from '../cli/json.js'

export const publishCommand: Command = {
  name: 'publish',
  summary: 'publish an event on a channel',
  usage: ['publish <channel> [json]'],
  description:
    'Publishes the JSON value (default null) on the channel to every current subscriber (live,\n' +
    'at-most-once: subscribers that start later do not see it). Prints nothing.',
  options: {},
  examples: [`unipc publish camera.alarm '{"level":2}'`],
  arity: { min: 1, max: 2 },
  async run(ctx) {
    const [channel, text] = ctx.args as [string, string | undefined]
    const data = text === undefined ? null : parseJson(text, 'the event data', 'publish')
    await using bus = await ctx.connect()
    await bus.events.publish(channel, data)
    return 0
  },
}
