/**
 * redis-ipc wire compatibility: a plain ioredis client drives the wire format exactly as the
 * redis-ipc C library does, and a unipc component in `compat: 'redis-ipc'` mode answers.
 */
import { type Bus, connect } from '@unipc/core'
import { startRedis, type TestRedis, waitFor } from '@unipc/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let redis: TestRedis
let plain: Redis
const buses: Bus[] = []
const others: Redis[] = []

beforeAll(async () => {
  redis = await startRedis()
  plain = new Redis({ path: redis.socketPath })
})
afterAll(async () => {
  await Promise.allSettled(buses.map((b) => b.close()))
  for (const r of [plain, ...others]) r?.disconnect()
  await redis?.stop()
})

async function bus(component?: string): Promise<Bus> {
  const b = await connect(`${redis.unixUrl}?compat=redis-ipc`, { component, codec: 'json' })
  buses.push(b)
  return b
}

/** Standard fields the C library adds: timestamp "<sec>.<usec>", component, thread, tid. */
const cFields = (component: string) => ({
  timestamp: '1700000000.123456',
  component,
  thread: 'main',
  tid: 4242,
})

describe('redis-ipc wire compatibility', () => {
  it('answers a command RPUSHed with results_queue and command_id on the results queue (BLPOP)', async () => {
    const camera = await bus('camera')
    await camera.commands.handle((cmd: Record<string, unknown>, ctx) => ({
      status: 'ok',
      got: cmd,
      from: ctx.sender,
    }))
    const command = {
      command: 'capture',
      exposure: 10,
      results_queue: 'queues.results.cli.main',
      command_id: 'cli-main-4242-0',
      ...cFields('cli'),
    }
    await plain.rpush('queues.commands.camera', JSON.stringify(command))
    const popped = await plain.blpop('queues.results.cli.main', 5)
    expect(popped?.[0]).toBe('queues.results.cli.main')
    const result = JSON.parse(popped?.[1] ?? '{}')
    expect(result).toMatchObject({
      command_id: 'cli-main-4242-0',
      status: 'ok',
      got: { command: 'capture', exposure: 10 },
      from: 'cli',
      component: 'camera',
      tid: process.pid,
    })
    expect(result.timestamp).toMatch(/^\d+\.\d{6}$/)
    expect(typeof result.thread).toBe('string')
  })

  it('sends a command a C-style worker BLPOPs and resolves with the result it RPUSHes', async () => {
    const ui = await bus('ui')
    const reply = ui.commands.send('motor', { command: 'move', steps: 3 })
    const popped = await plain.blpop('queues.commands.motor', 5)
    const command = JSON.parse(popped?.[1] ?? '{}')
    expect(command).toMatchObject({ command: 'move', steps: 3, component: 'ui', tid: process.pid })
    expect(command.results_queue).toMatch(/^queues\.results\.ui\./)
    expect(command.command_id).toMatch(/^ui-.+-\d+-\d+$/)
    // A result for another command id is ignored, as redis-ipc senders do.
    await plain.rpush(command.results_queue, JSON.stringify({ command_id: 'other', ...cFields('motor') }))
    await plain.rpush(
      command.results_queue,
      JSON.stringify({ command_id: command.command_id, position: 3, ...cFields('motor') }),
    )
    expect(await reply).toEqual({ position: 3 })
  })

  it('stores settings as strings in settings.<component>, watches HSETs through keyspace events', async () => {
    const camera = await bus('cam2')
    const seen: unknown[] = []
    const watch = camera.settings.watch('cam2', 'exposure').subscribe((v) => seen.push(v))
    await waitFor(() => seen.length === 1)
    const sub = new Redis({ path: redis.socketPath })
    others.push(sub)
    const notes: string[] = []
    sub.on('message', (channel: string, event: string) => notes.push(`${channel} ${event}`))
    await sub.subscribe('__keyspace@0__:settings.cam2')
    // The C library's way of writing a setting.
    await plain.hset('settings.cam2', 'exposure', '20')
    await waitFor(() => seen.includes(20))
    await camera.settings.set('cam2', 'mode', 'auto')
    expect(await plain.hget('settings.cam2', 'mode')).toBe('auto')
    expect(await camera.settings.getAll('cam2')).toEqual({ exposure: 20, mode: 'auto' })
    await waitFor(() => notes.filter((n) => n === '__keyspace@0__:settings.cam2 hset').length >= 2)
    watch.unsubscribe()
  })

  it('publishes status in status.<component> with a readable heartbeat', async () => {
    const camera = await bus('cam3')
    await camera.status.update({ state: 'running', fps: 30 })
    expect(await plain.hget('status.cam3', 'state')).toBe('running')
    expect(await plain.hget('status.cam3', 'fps')).toBe('30')
    expect(JSON.parse((await plain.hget('status.cam3', '$alive')) ?? '{}')).toMatchObject({ ttl: 3000 })
    await plain.hset('status.cam4', 'state', 'idle')
    const other = await bus()
    expect(await other.status.get('cam4')).toMatchObject({ online: false, fields: { state: 'idle' } })
  })

  it('exchanges events on channel.events.* and debug messages on channel.debug.*', async () => {
    const camera = await bus('cam5')
    const sub = new Redis({ path: redis.socketPath })
    others.push(sub)
    const got: [string, Record<string, unknown>][] = []
    sub.on('pmessage', (_p: string, channel: string, message: string) =>
      got.push([channel, JSON.parse(message)]),
    )
    await sub.psubscribe('channel.events.*', 'channel.debug.*')
    await camera.events.publish('cam5.frame', { n: 1 })
    await camera.events.publish('debug.cam5', { message: 'exposure adjusted', level: 3 })
    await waitFor(() => got.length === 2)
    expect(got[0]?.[0]).toBe('channel.events.cam5.frame')
    expect(got[0]?.[1]).toMatchObject({ n: 1, channel: 'channel.events.cam5.frame', component: 'cam5' })
    expect(got[0]?.[1].timestamp).toMatch(/^\d+\.\d{6}$/)
    expect(got[1]).toEqual([
      'channel.debug.cam5',
      expect.objectContaining({ message: 'exposure adjusted', level: 3 }),
    ])
    await expect(camera.events.publish('debug.cam5', { message: 'x', level: 9 })).rejects.toThrow(/level/)

    const events: unknown[] = []
    const s = camera.events.subscribe('sensor.*')
    s.subscribe((m) => events.push(m))
    await s.ready
    await plain.publish(
      'channel.events.sensor.temp',
      JSON.stringify({ value: 21.5, channel: 'channel.events.sensor.temp', ...cFields('sensor') }),
    )
    await waitFor(() => events.length === 1)
    expect(events[0]).toEqual({ channel: 'sensor.temp', data: { value: 21.5 } })
  })

  it('lets two unipc components in redis-ipc mode talk to each other', async () => {
    const a = await bus('ra')
    const b = await bus('rb')
    await a.commands.handle((cmd: { x: number }) => ({ y: cmd.x + 1 }))
    expect(await b.commands.send('ra', { x: 1 })).toEqual({ y: 2 })
    await a.commands.handle(
      () => {
        throw new Error('nope')
      },
      { queue: 'bad' },
    )
    await expect(b.commands.send('ra', { x: 1 }, { queue: 'bad' })).rejects.toThrow('nope')
    await expect(b.commands.send('ra', 5)).rejects.toThrow(/JSON objects/)
    await a.requests.serve('twice', (n: number) => n * 2)
    expect(await b.requests.call('twice', 4)).toBe(8)
  })
})
