/** ACL credentials: refused credentials and refused permissions surface as AuthError. */
import { AuthError, type Bus, ConnectionError, connect } from '@unipc/core'
import { startRedis, type TestRedis } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis({ unixSocket: false, args: ['--requirepass', 'topsecret'] })
  // A user that may read but not write: its writes are refused with NOPERM.
  await redis.cli(
    '-a',
    'topsecret',
    '--no-auth-warning',
    'ACL',
    'SETUSER',
    'reader',
    'on',
    '>readpw',
    '~*',
    '&*',
    '+@read',
    '+@connection',
    '+@pubsub',
    '+evalsha',
    '+eval',
    '+client',
  )
})
afterAll(async () => {
  await redis?.stop()
})

describe('ACL credentials', () => {
  it('connects with the password in the URL', async () => {
    const bus: Bus = await connect(`redis://default:topsecret@127.0.0.1:${redis.port}`, { component: 'ok' })
    await bus.settings.set('ok', 'k', 1)
    expect(await bus.settings.get('ok', 'k')).toBe(1)
    await bus.close()
  })

  it('fails to connect with a wrong password with AuthError', async () => {
    const err = await connect(`redis://default:wrong@127.0.0.1:${redis.port}`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AuthError)
  })

  it('surfaces a write the ACL user may not do as an error to the caller', async () => {
    const bus = await connect(`redis://127.0.0.1:${redis.port}`, {
      liveness: false,
      transport: { username: 'reader', password: 'readpw' },
    })
    try {
      const err = await bus.commands.send('x', 'job', { noReply: true }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AuthError)
      expect(String((err as Error).message)).toMatch(/NOPERM/)
      expect(await bus.settings.get('x', 'k')).toBeUndefined()
    } finally {
      await bus.close()
    }
  })

  it('fails with ConnectionError when nothing listens', async () => {
    const err = await connect('redis+unix:///nonexistent/redis.sock').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
  })
})
