import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bus, connect } from '@unipc/core'
import { spawnTs, tempDir } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { startHub } from '../../src/index.js'

/**
 * A caller with a token dials a server's direct listener that has none (the server reached the hub
 * over its unix socket): the listener accepts the caller, the caller refuses the listener (it
 * cannot prove the token) and sends its requests through the hub. The server's replies must then
 * take the hub too, not the direct link the caller is dropping.
 */
const serverFixture = fileURLToPath(new URL('../fixtures/server.ts', import.meta.url))

describe('a direct link the caller refuses', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  it('carries no replies: every call answered through the hub arrives', { timeout: 60_000 }, async () => {
    const dir = tempDir('unipc-refused-')
    stops.push(() => dir.cleanup())
    const token = 'refused-token-0123456789'
    const unix = `unix://${join(dir.path, 'hub.sock')}`
    const hub = await startHub({ listen: [unix, 'tcp://127.0.0.1:0'], token })
    stops.push(() => hub.close())
    const tcp = hub.urls.find((u) => u.startsWith('tcp:')) as string
    // Two server processes of `echo`: one reached over unix (its direct listener has no token), one
    // over TCP; the hub balances the calls the caller re-routes between them.
    for (const url of [unix, `${tcp}?token=${token}`]) {
      const child = spawnTs(serverFixture, [url])
      stops.push(() => child.kill('SIGKILL'))
      await child.waitForLine('server ready', 30_000)
    }
    // A fresh caller each round: the refused link is only ever being dropped in its first moments.
    for (let round = 0; round < 3; round++) {
      const caller: Bus = await connect(`${tcp}?token=${token}`, { liveness: false })
      stops.push(() => caller.close())
      const replies = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) => caller.requests.call('echo', i, { timeout: 5000 })),
      )
      expect(replies.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(
        Array.from({ length: 16 }, (_, i) => i),
      )
      await caller.close()
    }
  })
})
