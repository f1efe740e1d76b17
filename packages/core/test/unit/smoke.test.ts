import { connect } from '@unipc/core'
import { describe, expect, it } from 'vitest'

describe('memory smoke', () => {
  it('runs a request round trip', async () => {
    const url = `memory://smoke-${Math.random()}`
    await using server = await connect(url, { component: 's' })
    await using client = await connect(url, { component: 'c' })
    await server.requests.serve('add', (d: { a: number; b: number }) => d.a + d.b)
    expect(await client.requests.call('add', { a: 1, b: 2 })).toBe(3)
  })
})
