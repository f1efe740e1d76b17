/**
 * @unipc/demos — one demo per seed use case, each runnable on any transport.
 * @packageDocumentation
 */
import { backgroundServerDemo } from './background-server/demo.js'
import { channelDemo } from './channel.js'
import { componentsDemo } from './components.js'
import type { Demo } from './demo.js'
import { echoServiceDemo } from './echo-service.js'
import { studentSystemDemo } from './student-system/demo.js'

export type { Demo, DemoContext } from './demo.js'
export { type RunOptions, runDemos } from './runner.js'

/** Every demo, in the order `npm run demo` runs them. */
export const demos: readonly Demo[] = [
  componentsDemo,
  channelDemo,
  studentSystemDemo,
  backgroundServerDemo,
  echoServiceDemo,
]
