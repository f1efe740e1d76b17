import { connect, InvalidArgumentError } from '@unipc/core'
import { afterEach, describe, expect, it } from 'vitest'

describe('connect', () => {
  const saved = process.env.UNIPC_URL
  afterEach(() => {
    if (saved === undefined) delete process.env.UNIPC_URL
    else process.env.UNIPC_URL = saved
  })

  it('uses UNIPC_URL when no URL is given', async () => {
    process.env.UNIPC_URL = 'memory://from-env'
    await using bus = await connect({ component: 'env-user' })
    expect(bus.transport.name).toBe('memory')
  })

  it('prefers an explicit URL over UNIPC_URL', async () => {
    process.env.UNIPC_URL = 'nosuch://host'
    await using bus = await connect('memory://explicit')
    expect(bus.transport.name).toBe('memory')
  })

  it('rejects an unknown scheme with InvalidArgumentError naming the known ones', async () => {
    const err = await connect('nosuch://host').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as Error).message).toContain('redis:')
  })
})
