/**
 * The broker process an shm bus starts in the background when none runs:
 * `broker-main --dir <dir> --bus <name> [--idle <ms>] [--keep-malloc]`. It prints `ready` once listening (or
 * `exists` when another broker holds the bus) and exits after `--idle` ms without buses.
 * @module
 */
import { parseArgs } from 'node:util'
import type { Logger } from '@unipc/core/spi'
import { startBroker } from './broker-server.js'
import { keepMallocSettings } from './link.js'
import { lostRequestReply } from './lost.js'
import { assertBusName, busPaths } from './paths.js'

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    bus: { type: 'string' },
    idle: { type: 'string' },
    'keep-malloc': { type: 'boolean' },
  },
})
// The bus that started us asked for glibc's allocator to stay as it is (tuneMalloc=0).
if (values['keep-malloc']) keepMallocSettings()
const bus = values.bus ?? ''
assertBusName(bus)
const idleMs = Number(values.idle ?? 5000)
const write =
  (level: string) =>
  (message: string, ...details: unknown[]): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} ${message} ${details.map(String).join(' ')}\n`)
  }
const logger: Logger = { debug: () => {}, info: write('info'), warn: write('warn'), error: write('error') }

const running = await startBroker(busPaths(bus, values.dir), {
  logger,
  idleMs: Number.isFinite(idleMs) && idleMs >= 0 ? idleMs : 5000,
  onIdle: () => process.exit(0),
  onLost: lostRequestReply,
})
process.stdout.write(running ? 'ready\n' : 'exists\n')
if (!running) process.exit(0)
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void running.close().then(() => process.exit(0)))
