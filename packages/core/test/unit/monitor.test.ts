import {
  connect,
  listBuses,
  listComponents,
  MONITORS_MAP,
  matchChannel,
  monitor,
  preview,
  type TraceRecord,
} from '@unipc/core'
import { firstValueFrom, take, toArray } from 'rxjs'
import { describe, expect, it } from 'vitest'

const world = (): string => `memory://monitor-${Math.random().toString(36).slice(2)}`

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A monitor on a fresh world, with a `camera` and a `ui` bus; disposing closes all of them. */
async function watchedPair() {
  const url = world()
  const watcher = await connect(url)
  const m = monitor(watcher)
  const seen: TraceRecord[] = []
  m.subscribe((r) => seen.push(r))
  await m.ready
  const camera = await connect(url, { component: 'camera' })
  const ui = await connect(url, { component: 'ui' })
  return {
    m,
    seen,
    camera,
    ui,
    async [Symbol.asyncDispose]() {
      await ui.close()
      await camera.close()
      await watcher.close()
    },
  }
}

describe('monitor', () => {
  it('sees commands, replies, requests, responses, settings, status and events with source and target', async () => {
    await using watched = await watchedPair()
    const { m, seen, camera, ui } = watched
    await camera.commands.handle((c: { op: string }) => ({ done: c.op }))
    await camera.requests.serve('camera.info', () => ({ model: 'x1' }))
    expect(await ui.commands.send('camera', { op: 'snap' })).toEqual({ done: 'snap' })
    expect(await ui.requests.call('camera.info', { verbose: true })).toEqual({ model: 'x1' })
    await ui.settings.set('camera', 'exposure', 20)
    await camera.status.update({ state: 'idle' })
    await camera.events.publish('camera.snapped', { n: 1 })
    await until(() => seen.some((r) => r.kind === 'event'))
    const find = (kind: string) => seen.find((r) => r.kind === kind)
    expect(find('command')).toMatchObject({ src: 'ui', dst: 'camera', data: { op: 'snap' } })
    expect(find('reply')).toMatchObject({ src: 'camera', dst: 'ui', data: { done: 'snap' } })
    expect(find('request')).toMatchObject({ src: 'ui', dst: 'camera.info', data: { verbose: true } })
    expect(find('response')).toMatchObject({ src: 'camera.info', dst: 'ui', data: { model: 'x1' } })
    expect(find('setting')).toMatchObject({ src: 'ui', dst: 'camera', key: 'exposure', data: 20 })
    expect(seen.find((r) => r.kind === 'status' && r.key === 'state')).toMatchObject({
      src: 'camera',
      data: 'idle',
    })
    expect(find('event')).toMatchObject({ src: 'camera', dst: 'camera.snapped', data: { n: 1 } })
    expect(typeof find('reply')?.ms).toBe('number')
    await m.close()
  })

  it('publishes nothing while no monitor is announced', async () => {
    const url = world()
    await using spy = await connect(url)
    const records: unknown[] = []
    await spy.transport.pubsub.subscribe('$unipc.trace.>', (_c, d) => records.push(d))
    await using a = await connect(url, { component: 'a' })
    await a.events.publish('a.x', 1)
    await a.settings.set('a', 'k', 1)
    await new Promise((r) => setTimeout(r, 30))
    expect(records).toHaveLength(0)
    expect((await spy.transport.maps.getAll(MONITORS_MAP)).size).toBe(0)
  })

  it('stops tracing once the monitor closes', async () => {
    const url = world()
    await using watcher = await connect(url)
    await using spy = await connect(url)
    const records: unknown[] = []
    await spy.transport.pubsub.subscribe('$unipc.trace.>', (_c, d) => records.push(d))
    await using a = await connect(url, { component: 'a' })
    const m = monitor(watcher)
    await m.ready
    await until(() => {
      void a.events.publish('a.x', 1)
      return records.length > 0
    })
    await m.close()
    await new Promise((r) => setTimeout(r, 20))
    const before = records.length
    await a.events.publish('a.x', 2)
    await new Promise((r) => setTimeout(r, 20))
    expect(records.length).toBe(before)
  })

  it('filters by pattern on source or target and by kind', async () => {
    const url = world()
    await using watcher = await connect(url)
    const m = monitor(watcher, { pattern: 'cam*', kinds: ['event'] })
    const got = firstValueFrom(m.pipe(take(1), toArray()))
    await m.ready
    await using a = await connect(url, { component: 'other' })
    await a.settings.set('camera', 'x', 1)
    await a.events.publish('lights.on', 1)
    await a.events.publish('camera.on', 2)
    expect(await got).toMatchObject([{ kind: 'event', dst: 'camera.on', data: 2 }])
    await m.close()
  })

  it('does not show trace channels to subscribers of > or *-first patterns', async () => {
    expect(matchChannel('>', '$unipc.trace.event')).toBe(false)
    expect(matchChannel('*.trace.event', '$unipc.trace.event')).toBe(false)
    expect(matchChannel('$unipc.trace.>', '$unipc.trace.event')).toBe(true)
    expect(matchChannel('>', 'camera.on')).toBe(true)
  })

  it('lists components and the services and queues of open buses', async () => {
    const url = world()
    await using tool = await connect(url)
    const camera = await connect(url, { component: 'camera' })
    await using helper = await connect(url)
    await camera.commands.handle(() => 1)
    await helper.requests.serve('echo', (d) => d)
    await new Promise((r) => setTimeout(r, 20))
    expect(await listComponents(tool.transport)).toEqual(['camera'])
    const buses = await listBuses(tool.transport)
    expect(buses.find((b) => b.component === 'camera')?.queues).toEqual(['camera'])
    expect(buses.find((b) => b.services.includes('echo'))).toBeDefined()
    await camera.close()
    expect((await listBuses(tool.transport)).some((b) => b.component === 'camera')).toBe(false)
    expect(await listComponents(tool.transport)).toEqual(['camera'])
  })

  it('counts every item of a streamed response, also when several items share a frame', async () => {
    await using watched = await watchedPair()
    const { m, seen, camera, ui } = watched
    // A synchronous generator yields many items in one run: the server batches them into Items frames.
    await camera.requests.serve('camera.frames', function* (n: number) {
      for (let i = 0; i < n; i++) yield i
    })
    let got = 0
    for await (const _ of ui.requests.stream('camera.frames', 3000)) got++
    expect(got).toBe(3000)
    await until(() => seen.some((r) => r.kind === 'response'))
    expect(seen.find((r) => r.kind === 'response')).toMatchObject({
      src: 'camera.frames',
      dst: 'ui',
      data: '<3000 items>',
    })
    await m.close()
  })
})

describe('preview', () => {
  it('shows bytes as their length, also Buffers, and bigints as numbers', () => {
    expect(preview({ a: Buffer.from([1, 2]), b: new Uint8Array(3), c: 5n })).toBe(
      '{"a":"<2 bytes>","b":"<3 bytes>","c":"5n"}',
    )
    expect(preview(Buffer.from([1]))).toBe('"<1 bytes>"')
    expect(preview(undefined)).toBe('')
  })
})
