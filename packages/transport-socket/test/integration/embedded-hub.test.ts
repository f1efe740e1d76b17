import { statSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '@unipc/core'
import { InvalidArgumentError } from '@unipc/core/spi'
import { tempDir, waitFor } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { HubAlreadyRunningError, startHub } from '../../src/index.js'
import { T } from '../../src/wire/protocol.js'
import { rawAuthed, rawConnect } from '../helpers/raw.js'

describe('embedded hub', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('drops events for a subscriber that stops reading, counts them, and keeps serving the others', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}`], outboundLimit: 256 * 1024 })
    cleanups.push(() => hub.close())
    const slow = await rawAuthed(sock)
    slow.send([T.Subscribe, 1, 1, 'flood'])
    await waitFor(() => slow.frames.some((f) => f[0] === T.Ok))
    slow.socket.pause()
    const pub = await connect(`unix://${sock}`, { liveness: false })
    const sub = await connect(`unix://${sock}`, { liveness: false })
    cleanups.push(
      () => pub.close(),
      () => sub.close(),
    )
    let got = 0
    sub.events.subscribe('flood').subscribe(() => got++)
    await new Promise((r) => setTimeout(r, 50))
    const payload = 'x'.repeat(1024)
    for (let round = 1; round <= 80; round++) {
      for (let i = 0; i < 50; i++) await pub.events.publish('flood', payload)
      await waitFor(() => got === round * 50)
    }
    expect(hub.stats().droppedEvents).toBeGreaterThan(1000)
    expect(hub.stats().connections).toBe(3) // the slow one is still connected: it only loses events
    slow.socket.destroy()
  })

  it('lets a connection do nothing before it authenticates', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}?token=secret`] })
    cleanups.push(() => hub.close())
    const bus = await connect(`unix://${sock}?token=secret`, { liveness: false })
    cleanups.push(() => bus.close())
    const seen: unknown[] = []
    const sub = bus.events.subscribe('x')
    sub.subscribe((e) => seen.push(e.data))
    await sub.ready
    const intruder = await rawConnect(sock)
    intruder.send([T.Publish, 'x', new Uint8Array([0xa3, 0x62, 0x61, 0x64])])
    await intruder.closed
    expect(intruder.frames.map((f) => f[0])).toEqual([T.Hello, T.Fail])
    expect(intruder.frames[1]?.[2]).toBe('UNIPC_PROTOCOL')
    await bus.events.publish('x', 'good')
    await waitFor(() => seen.length > 0)
    expect(seen).toEqual(['good'])
  })

  it('creates unix sockets with mode 0600 unless told otherwise', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const a = await startHub({ listen: [`unix://${join(dir.path, 'a.sock')}`] })
    const b = await startHub({ listen: [`unix://${join(dir.path, 'b.sock')}?mode=660`] })
    cleanups.push(
      () => a.close(),
      () => b.close(),
    )
    expect(statSync(join(dir.path, 'a.sock')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir.path, 'b.sock')).mode & 0o777).toBe(0o660)
  })

  it('refuses a TCP listener without a token, and a second hub on a live unix socket', async () => {
    await expect(startHub({ listen: ['tcp://127.0.0.1:0'] })).rejects.toBeInstanceOf(InvalidArgumentError)
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}`] })
    cleanups.push(() => hub.close())
    await expect(startHub({ listen: [`unix://${sock}`] })).rejects.toBeInstanceOf(HubAlreadyRunningError)
  })

  it('refuses a frame over the limit with PayloadTooLargeError before sending it', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const hub = await startHub({ listen: [`unix://${sock}`], maxFrame: 256 * 1024 })
    cleanups.push(() => hub.close())
    const bus = await connect(`unix://${sock}?maxFrame=${256 * 1024}`, { liveness: false })
    cleanups.push(() => bus.close())
    const err = await bus.settings.set('big', 'k', 'x'.repeat(300 * 1024)).catch((e) => e)
    expect(err.code).toBe('UNIPC_PAYLOAD_TOO_LARGE')
    await bus.settings.set('big', 'k', 'fits')
    expect(await bus.settings.get('big', 'k')).toBe('fits')
  })
})
