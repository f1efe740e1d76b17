/**
 * Test helper: buses and child processes a test file starts, closed and SIGKILLed after each test
 * (even a failed one), and a broker process shared by the file's tests.
 * @module
 */
import { type Bus, connect } from '@unipc/core'
import type { ChildHandle } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type BrokerProcess, startBrokerProcess } from './broker-process.js'

/** What {@link trackedResources} gives a test file. */
export interface Tracked {
  /** The file's broker (started before its first test, stopped after its last). */
  broker(): BrokerProcess
  /** Connects a bus that is closed after the current test. */
  bus(url: string, component?: string, options?: { drainTimeout?: number }): Promise<Bus>
  /** Kills `child` with SIGKILL after the current test (if it still runs). */
  child(child: ChildHandle): ChildHandle
  /** Closes the buses opened so far in this test (for a test that stops its own broker first). */
  closeBuses(): Promise<void>
}

/** Registers the vitest hooks that start the file's broker and clean up after every test. */
export function trackedResources(): Tracked {
  let broker: BrokerProcess | undefined
  const children: ChildHandle[] = []
  const buses: Bus[] = []
  const closeBuses = async (): Promise<void> => {
    await Promise.all(buses.splice(0).map((b) => b.close()))
  }
  beforeAll(async () => {
    broker = await startBrokerProcess()
  })
  afterEach(async () => {
    await closeBuses()
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')))
  })
  afterAll(async () => {
    await broker?.stop()
  })
  return {
    broker: () => broker as BrokerProcess,
    async bus(url, component, options) {
      const b = await connect(url, { component, ...options })
      buses.push(b)
      return b
    },
    child(c) {
      children.push(c)
      return c
    },
    closeBuses,
  }
}
