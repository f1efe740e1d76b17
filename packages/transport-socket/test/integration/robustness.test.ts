import { randomBytes, randomInt } from 'node:crypto'
import { join } from 'node:path'
import { connect } from '@unipc/core'
import { tempDir, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { T } from '../../src/wire/protocol.js'
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js'
import { type RawClient, rawAuthed, rawConnect } from '../helpers/raw.js'

describe('a hub fed garbage', () => {
  const dir = tempDir('unipc-garbage-')
  const sock = join(dir.path, 'hub.sock')
  let hub: HubProcess
  beforeAll(async () => {
    hub = await startHubProcess(['--listen', `unix://${sock}`])
  })
  afterAll(async () => {
    await hub?.stop()
    dir.cleanup()
  })

  /** One garbage frame: random bytes, a random body behind a valid length, or a well-formed frame with wrong fields. */
  function garbage(i: number): Buffer {
    switch (i % 4) {
      case 0:
        return randomBytes(randomInt(1, 300))
      case 1: {
        const body = randomBytes(randomInt(1, 300))
        const len = Buffer.alloc(4)
        len.writeUInt32BE(body.length)
        return Buffer.concat([len, body])
      }
      case 2: {
        // A msgpack array [type, junk…] with a type the hub knows and fields of the wrong kinds.
        const body = Buffer.concat([Buffer.from([0x93, randomInt(1, 60), 0xc3]), randomBytes(8)])
        const len = Buffer.alloc(4)
        len.writeUInt32BE(body.length)
        return Buffer.concat([len, body])
      }
      default: {
        // A declared length bigger than what follows, then the connection closes mid-frame.
        const len = Buffer.alloc(4)
        len.writeUInt32BE(randomInt(10, 100_000))
        return Buffer.concat([len, randomBytes(randomInt(0, 9))])
      }
    }
  }

  async function sendGarbage(i: number): Promise<void> {
    // Half before the handshake, half after it (a client that authenticated, then misbehaves).
    const c: RawClient = i % 2 === 0 ? await rawConnect(sock) : await rawAuthed(sock)
    c.socket.write(garbage(i >> 1))
    c.socket.end()
    await c.closed
  }

  it('keeps answering a well-behaved client through 1,000 garbage frames and an oversized length header', async () => {
    const server = await connect(`unix://${sock}`, { liveness: false })
    const client = await connect(`unix://${sock}`, { liveness: false })
    await server.requests.serve('echo', (d) => d)
    let replies = 0
    let stop = false
    const good = (async () => {
      while (!stop) {
        expect(await client.requests.call('echo', replies, { timeout: 5000 })).toBe(replies)
        replies++
      }
    })()
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => sendGarbage(batch + k)))
    }
    const before = replies

    // A length header far over the limit: a PayloadTooLarge error frame, then a clean close.
    const big = await rawAuthed(sock)
    big.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]))
    await big.closed
    const fail = big.frames.find((f) => f[0] === T.Fail)
    expect(fail?.[2]).toBe('UNIPC_PAYLOAD_TOO_LARGE')

    await waitFor(() => replies > before + 10)
    stop = true
    await good
    expect(replies).toBeGreaterThan(before)
    expect(hub.child.process.exitCode).toBeNull()
    expect(hub.child.stderr()).toMatch(/malformed|unusable|broke the protocol/)
    await client.close()
    await server.close()
  }, 60_000)
})
