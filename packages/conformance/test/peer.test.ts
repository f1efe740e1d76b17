import { fileURLToPath } from 'node:url'
import { spawnTs } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'
import { type PeerHandle, startPeer } from '../src/index.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** Starts a peer, runs `body`, and always kills the peer. */
async function withPeer(
  options: Parameters<typeof startPeer>[0],
  body: (peer: PeerHandle) => Promise<void>,
): Promise<void> {
  const peer = await startPeer(options, { prefix: `p-${process.pid}-${Date.now()}`, livenessInterval: 100 })
  try {
    await body(peer)
  } finally {
    await peer.kill('SIGKILL')
  }
}

describe('conformance peer process', () => {
  it('starts with the default spawn, reports ready and exits cleanly on SIGTERM', async () => {
    await withPeer({ url: 'memory:' }, async (peer) => {
      expect(peer.process.pid).toBeGreaterThan(0)
      expect(await peer.kill('SIGTERM')).toBe(0)
    })
  })

  it('exits when its stdin closes, so a dead parent leaves no orphan', async () => {
    await withPeer({ url: 'memory:' }, async (peer) => {
      peer.process.stdin?.end()
      expect(await peer.exited).toBe(0)
    })
  })

  it('accepts an injected spawn function (here testkit spawnTs)', async () => {
    await withPeer(
      { url: 'memory:', spawn: (script, args) => spawnTs(script, args).process },
      async (peer) => {
        expect(peer.process.exitCode).toBeNull()
      },
    )
  })

  it('preloads modules before connecting, so a third-party scheme can be registered', async () => {
    await withPeer({ url: 'loop:', preload: [fixture('register-loop.ts')] }, async (peer) => {
      expect(peer.process.exitCode).toBeNull()
    })
  })

  it('fails with the peer output when the peer cannot connect', async () => {
    const err = await startPeer({ url: 'nosuchscheme://x' }, { prefix: 'bad', livenessInterval: 100 }).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err?.message).toMatch(/peer exited with 1 before it was ready/)
    expect(err?.message).toMatch(/unknown transport scheme/)
  })
})
