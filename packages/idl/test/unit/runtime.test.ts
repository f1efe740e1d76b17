import { type Bus, connect, RemoteError, ValidationError } from '@unipc/core'
import { t } from '@unipc/rpc-streams'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commandDispatcher, sendCommand, settingHandle, typedModel } from '../../src/runtime/index.js'

describe('typedModel', () => {
  it('builds a model descriptor', () => {
    const Point = typedModel<{ x: number; y?: number }>()('Point', {
      x: t.float64(),
      y: t.optional(t.float64()),
    })
    expect(Point).toMatchObject({ kind: 'model', name: 'Point' })
  })

  it('is rejected by tsc when descriptors and interface disagree', () => {
    // These lines are checked by `tsc -p packages/idl`: each must be a type error.
    // @ts-expect-error the descriptor says string, the interface says number
    typedModel<{ age: number }>()('A', { age: t.string() })
    // @ts-expect-error the descriptor lacks a required field of the interface
    typedModel<{ age: number; id: string }>()('B', { id: t.string() })
    expect(true).toBe(true)
  })
})

describe('commands and settings over a real bus', () => {
  let server: Bus
  let client: Bus
  const seen: unknown[] = []
  const resolve = () => undefined

  beforeAll(async () => {
    server = await connect(`memory://idl-runtime-${process.pid}`, { component: 'svc' })
    client = await connect(`memory://idl-runtime-${process.pid}`, { component: 'ui' })
    await server.commands.handle(
      commandDispatcher(
        { hello: { type: t.object({ n: t.uint8() }), run: (a) => void seen.push(a.n) } },
        resolve,
      ),
    )
  })
  afterAll(async () => {
    await client?.close()
    await server?.close()
  })

  it('answers a malformed or unknown command with an error and keeps serving', async () => {
    const unknown = await client.commands.send('svc', { command: 'nope', args: {} }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(RemoteError)
    expect((unknown as RemoteError).code).toBe('UNIPC_INVALID_ARGUMENT')
    expect((unknown as Error).message).toContain('this service handles hello')
    const garbage = await client.commands.send('svc', 'just a string').catch((e: unknown) => e)
    expect((garbage as RemoteError).code).toBe('UNIPC_INVALID_ARGUMENT')
    const proto = await client.commands
      .send('svc', { command: 'toString', args: {} })
      .catch((e: unknown) => e)
    expect((proto as RemoteError).code).toBe('UNIPC_INVALID_ARGUMENT')
    const bad = await client.commands
      .send('svc', { command: 'hello', args: { n: 300 } })
      .catch((e: unknown) => e)
    expect((bad as RemoteError).code).toBe('UNIPC_VALIDATION')
    expect((bad as Error).message).toContain('hello.n')
    await sendCommand(client, 'svc', 'hello', t.object({ n: t.uint8() }), { n: 7 }, resolve)
    expect(seen).toEqual([7])
  })

  it('refuses to send a command whose arguments do not validate', async () => {
    const err = await sendCommand(
      client,
      'svc',
      'hello',
      t.object({ n: t.uint8() }),
      { n: -1 },
      resolve,
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).path).toBe('hello.n')
  })

  it('reads a setting that someone wrote with the wrong type as a ValidationError', async () => {
    await client.settings.set('svc', 'level', 'high')
    const level = settingHandle<number, number>(
      { bus: () => client, component: () => 'svc', resolve },
      'level',
      t.uint8(),
      () => 3,
    )
    await expect(level.get()).rejects.toBeInstanceOf(ValidationError)
    await client.settings.delete('svc', 'level')
    expect(await level.get()).toBe(3)
  })
})
