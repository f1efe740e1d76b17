import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bus, type ConnectionState, connect } from '@unipc/core'
import { ConnectionError } from '@unipc/core/spi'
import { spawnTs, tempDir, waitFor } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { loadState } from '../../src/hub/state-file.js'
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js'

const workerFixture = fileURLToPath(new URL('../fixtures/worker.ts', import.meta.url))

describe('recovery across processes', () => {
  const stops: (() => unknown)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s()
  })

  it('a command held by a worker killed with SIGKILL is redelivered to another worker, flagged redelivered', async () => {
    const dir = tempDir('unipc-kill-')
    stops.push(() => dir.cleanup())
    const hub = await startHubProcess(['--listen', `unix://${join(dir.path, 'hub.sock')}`])
    stops.push(() => hub.stop())
    const url = hub.urls[0] as string
    const worker = spawnTs(workerFixture, [url, 'printer'])
    stops.push(() => worker.kill('SIGKILL'))
    await worker.waitForLine('worker ready')
    const sender = await connect(url, { liveness: false })
    stops.push(() => sender.close())
    const reply = sender.commands.send('printer', { job: 7 }, { timeout: 15_000 })
    await worker.waitForLine('got {"job":7} false')
    await worker.kill('SIGKILL')
    const second = await connect(url, { component: 'printer', liveness: false })
    stops.push(() => second.close())
    await second.commands.handle((cmd, ctx) => ({ cmd, redelivered: ctx.redelivered }))
    expect(await reply).toEqual({ cmd: { job: 7 }, redelivered: true })
  })

  it('after kill -9 and restart of a hub with a state file, settings and queued commands are intact and clients reconnect and resubscribe on their own', async () => {
    const dir = tempDir('unipc-restart-')
    stops.push(() => dir.cleanup())
    const sock = join(dir.path, 'hub.sock')
    const stateFile = join(dir.path, 'hub.state')
    const args = ['--listen', `unix://${sock}`, '--state-file', stateFile]
    let hub: HubProcess = await startHubProcess(args)
    stops.push(() => hub.stop())
    const fast = { reconnect: { initialDelay: 20, maxDelay: 200 } }
    const a: Bus = await connect(`unix://${sock}`, { component: 'a', liveness: false, transport: fast })
    const b: Bus = await connect(`unix://${sock}`, { component: 'b', liveness: false, transport: fast })
    stops.push(
      () => a.close(),
      () => b.close(),
    )
    const states: ConnectionState[] = []
    b.state$.subscribe((s) => states.push(s))

    await a.settings.setMany('camera', { exposure: 12, mode: 'night' })
    const seen: unknown[] = []
    b.settings.watch('camera', 'exposure').subscribe((v) => seen.push(v))
    const events: unknown[] = []
    b.events.subscribe('cam.*').subscribe((e) => events.push(e.data))
    await b.requests.serve('add', ([x, y]: [number, number]) => x + y)
    await b.requests.serve('hang', () => new Promise(() => {}))
    await b.commands.handle((n: number) => n * 2)
    await waitFor(() => seen.includes(12))
    // A command for a component with no worker yet: it must survive the restart in the queue.
    await a.commands.send('archiver', { file: 'x.jpg' }, { noReply: true })
    // The snapshot is written shortly after the change; kill only once it is on disk.
    await waitFor(() => {
      const saved = loadState(stateFile)
      return saved.maps.get('settings/camera')?.size === 2 && saved.queues.size === 1
    })

    const inFlight = a.requests.call('hang', null, { timeout: 20_000 }).catch((e) => e)
    await new Promise((r) => setTimeout(r, 50))
    await hub.stop('SIGKILL')
    expect(await inFlight).toBeInstanceOf(ConnectionError)
    await waitFor(() => a.state === 'reconnecting' && b.state === 'reconnecting')

    hub = await startHubProcess(args)
    await waitFor(() => a.state === 'connected' && b.state === 'connected', 15_000)
    expect(states).toEqual(['connected', 'reconnecting', 'connected'])

    expect(await a.settings.getAll('camera')).toEqual({ exposure: 12, mode: 'night' })
    await a.settings.set('camera', 'exposure', 20)
    await waitFor(() => seen.includes(20))
    await waitFor(async () => {
      await a.events.publish('cam.frame', 1)
      return events.includes(1)
    })
    expect(await a.requests.call('add', [2, 3])).toBe(5)
    expect(await a.commands.send('b', 21)).toBe(42)

    const archiver = await connect(`unix://${sock}`, { component: 'archiver', liveness: false })
    stops.push(() => archiver.close())
    const archived: unknown[] = []
    await archiver.commands.handle((cmd) => void archived.push(cmd))
    await waitFor(() => archived.length === 1)
    expect(archived).toEqual([{ file: 'x.jpg' }])
  }, 60_000)
})
