/**
 * `requests.callMapped`: the hook layers (typed clients) use instead of `call(…).then(map, mapError)`.
 * It must settle exactly as that chain would.
 */
import { connect, RemoteError, TimeoutError } from '@unipc/core'
import { describe, expect, it } from 'vitest'

class Wrapped extends Error {
  constructor(readonly inner: Error) {
    super(`wrapped: ${inner.message}`)
  }
}
const wrap = (err: Error): Error => new Wrapped(err)

async function pair() {
  const url = `memory://call-mapped-${Math.random()}`
  const server = await connect(url, { component: 's' })
  const client = await connect(url, { component: 'c' })
  await server.requests.serve('add', (d: { a: number; b: number }) => d.a + d.b)
  await server.requests.serve('boom', () => {
    throw new Error('nope')
  })
  await server.requests.serve('slow', () => new Promise((r) => setTimeout(r, 1_000)))
  return { server, client, close: () => Promise.all([client.close(), server.close()]) }
}

describe('requests.callMapped', () => {
  it('resolves with the mapped result', async () => {
    const { client, close } = await pair()
    try {
      const r = await client.requests.callMapped(
        'add',
        { a: 1, b: 2 },
        undefined,
        (v) => (v as number) * 10,
        wrap,
      )
      expect(r).toBe(30)
      // Without hooks it is a plain call.
      expect(await client.requests.callMapped('add', { a: 2, b: 2 }, undefined, undefined, undefined)).toBe(4)
    } finally {
      await close()
    }
  })

  it('rejects with what mapResult threw, not passed to mapError', async () => {
    const { client, close } = await pair()
    try {
      const bad = new TypeError('result check failed')
      const p = client.requests.callMapped(
        'add',
        { a: 1, b: 2 },
        undefined,
        () => {
          throw bad
        },
        wrap,
      )
      await expect(p).rejects.toBe(bad)
    } finally {
      await close()
    }
  })

  it('passes remote errors, timeouts, missing servers and closed buses to mapError', async () => {
    const { client, close } = await pair()
    try {
      const remote = await client.requests
        .callMapped('boom', null, undefined, undefined, wrap)
        .catch((e) => e)
      expect(remote).toBeInstanceOf(Wrapped)
      expect((remote as Wrapped).inner).toBeInstanceOf(RemoteError)
      const late = await client.requests
        .callMapped('slow', null, { timeout: 20 }, undefined, wrap)
        .catch((e) => e)
      expect((late as Wrapped).inner).toBeInstanceOf(TimeoutError)
      const nobody = await client.requests
        .callMapped('nobody', null, undefined, undefined, wrap)
        .catch((e) => e)
      expect(nobody).toBeInstanceOf(Wrapped)
      expect((nobody as Wrapped).inner.name).toBe('NoHandlerError')
      const bad = await client.requests
        .callMapped('bad name!', null, undefined, undefined, wrap)
        .catch((e) => e)
      expect((bad as Wrapped).inner.name).toBe('InvalidArgumentError')
    } finally {
      await close()
    }
    const { client: closed, close: close2 } = await pair()
    await close2()
    const gone = await closed.requests
      .callMapped('add', { a: 1, b: 1 }, undefined, undefined, wrap)
      .catch((e) => e)
    expect((gone as Wrapped).inner.name).toBe('ClosedError')
  })
  it('follows the promise mapError returns instead of rejecting (a fallback call)', async () => {
    const { client, close } = await pair()
    try {
      const fallback = (err: Error) =>
        err.name === 'NoHandlerError' ? client.requests.call('add', { a: 20, b: 1 }) : err
      // A failure after the call was sent (no server), and one before (a closed signal).
      expect(await client.requests.callMapped('nobody', null, undefined, undefined, fallback)).toBe(21)
      const aborted = AbortSignal.abort()
      const viaSignal = (err: Error) => (err.name === 'AbortError' ? Promise.resolve('instead') : err)
      expect(
        await client.requests.callMapped('add', { a: 1, b: 1 }, { signal: aborted }, undefined, viaSignal),
      ).toBe('instead')
      // Errors that map to errors still reject.
      await expect(client.requests.callMapped('boom', null, undefined, undefined, fallback)).rejects.toThrow(
        RemoteError,
      )
    } finally {
      await close()
    }
  })
})
