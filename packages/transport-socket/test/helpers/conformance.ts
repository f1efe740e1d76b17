/**
 * Test helper: runs the conformance suite against a hub in a separate process.
 * @module
 */
import { join } from 'node:path'
import { runConformance } from '@unipc/conformance'
import { connect } from '@unipc/core'
import { tempDir } from '@unipc/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type HubProcess, startHubProcess } from './hub-process.js'

/** What a conformance file needs: hub arguments and how to turn the hub's URL into a client URL. */
export interface SocketConformance {
  readonly name: string
  /** `--listen` etc. for the hub, given a fresh temp dir. */
  readonly hubArgs: (dir: string) => string[]
  /** The client URL from the URL the hub printed. */
  readonly clientUrl: (hubUrl: string, dir: string) => string
  /**
   * Run the hub with a state file and give the suite a restart hook (stop the hub, start it again
   * with the same arguments). Only for listeners whose address survives a restart (a unix path).
   */
  readonly restartable?: boolean
}

/** Registers the suite for one socket flavour. */
export function socketConformance(c: SocketConformance): void {
  const dir = tempDir('unipc-socket-conf-')
  let hub: HubProcess | undefined
  let url = ''
  let args: string[] = []
  beforeAll(async () => {
    args = c.hubArgs(dir.path)
    if (c.restartable) args.push('--state-file', join(dir.path, 'hub.state'))
    hub = await startHubProcess(args)
    url = c.clientUrl(hub.urls[0] as string, dir.path)
  })
  const restart = async (): Promise<void> => {
    await hub?.stop()
    hub = await startHubProcess(args)
  }
  afterAll(async () => {
    await hub?.stop()
    dir.cleanup()
  })
  runConformance(
    { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach },
    {
      name: c.name,
      // Handlers that never finish would hold every close() for the default 5 s drain; cases that
      // care about draining pass their own drainTimeout, which wins.
      connect: (options) => connect(url, { drainTimeout: 500, ...options }),
      supports: { redelivery: true, persistence: true, durableEvents: false, crossProcess: true },
      peer: { url: () => url },
      ...(c.restartable ? { restart } : {}),
    },
  )
}
