/**
 * Every subcommand, in the order `unipc --help` lists them.
 * @module
 */
import type { Command } from '../cli/command.js'
import { callCommand } from './call.js'
import { hubCommand } from './hub.js'
import { lsCommand } from './ls.js'
import { monitorCommand } from './monitor.js'
import { publishCommand } from './publish.js'
import { sendCommand } from './send.js'
import { settingsCommand } from './settings.js'
import { statusCommand } from './status.js'
import { subscribeCommand } from './subscribe.js'

export const commands: readonly Command[] = [
  monitorCommand,
  sendCommand,
  callCommand,
  publishCommand,
  subscribeCommand,
  settingsCommand,
  statusCommand,
  lsCommand,
  hubCommand,
]
