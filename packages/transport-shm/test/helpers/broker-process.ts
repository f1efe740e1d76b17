/**
 * Test helper: a broker for a fresh bus in a fresh directory, run as its own OS process (as the
 * auto-started one is), stopped with SIGTERM by `stop()`.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { type ChildHandle, spawnTs, tempDir } from '@unipc/testkit'

const brokerMain = fileURLToPath(new URL('../../src/broker-main.ts', import.meta.url))

/** A running broker process and the URL buses use to reach it. */
export interface BrokerProcess {
  readonly url: string
  readonly bus: string
  readonly dir: string
  readonly child: ChildHandle
  /** Stops the broker and removes the directory. */
  stop(): Promise<void>
}

/**
 * Starts a broker process for a new bus; resolves once it listens.
 * @param query - extra URL query, e.g. `&ring=65536`
 */
export async function startBrokerProcess(query = ''): Promise<BrokerProcess> {
  const dir = tempDir('unipc-shm-test-')
  const bus = `t${randomBytes(4).toString('hex')}`
  const child = spawnTs(brokerMain, ['--dir', dir.path, '--bus', bus, '--idle', '0'])
  try {
    await child.waitForLine('ready', 20_000)
  } catch (err) {
    await child.kill('SIGKILL')
    dir.cleanup()
    throw err
  }
  return {
    url: `shm://${bus}?dir=${dir.path}${query}`,
    bus,
    dir: dir.path,
    child,
    async stop() {
      await child.kill('SIGTERM')
      dir.cleanup()
    },
  }
}
