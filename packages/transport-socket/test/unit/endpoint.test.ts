import { InvalidArgumentError } from '@unipc/core/spi'
import { afterEach, describe, expect, it } from 'vitest'
import { parseEndpoint } from '../../src/endpoint.js'

describe('parseEndpoint', () => {
  afterEach(() => {
    delete process.env.UNIPC_TOKEN
  })

  it('reads unix paths, autostart and frame size', () => {
    const e = parseEndpoint(new URL('unix:///run/user/1000/unipc/hub.sock?autostart=1&maxFrame=4096'))
    expect(e).toMatchObject({
      kind: 'unix',
      path: '/run/user/1000/unipc/hub.sock',
      autostart: true,
      maxFrame: 4096,
    })
  })

  it('takes the token from options first, then the URL, then UNIPC_TOKEN, and never shows it', () => {
    process.env.UNIPC_TOKEN = 'env'
    expect(parseEndpoint(new URL('tcp://h:1')).token).toBe('env')
    expect(parseEndpoint(new URL('tcp://h:1?token=url')).token).toBe('url')
    const e = parseEndpoint(new URL('tcp://h:1?token=url'), { token: 'opt' })
    expect(e.token).toBe('opt')
    expect(e.display).toBe('tcp://h:1')
  })

  it('reads TLS files from options or the query', () => {
    expect(parseEndpoint(new URL('tls://[::1]:7401?ca=/c&cert=/x&key=/k')).tls).toMatchObject({
      ca: '/c',
      cert: '/x',
      key: '/k',
    })
    expect(parseEndpoint(new URL('tls://h:7401'), { tls: { ca: '/o' } }).tls.ca).toBe('/o')
    expect(parseEndpoint(new URL('tls://[::1]:7401')).host).toBe('::1')
  })

  it('rejects URLs without a port or path, other schemes and tiny frame limits', () => {
    for (const u of ['tcp://h', 'unix://', 'redis://h:1', 'unix:///a?maxFrame=10'])
      expect(() => parseEndpoint(new URL(u)), u).toThrow(InvalidArgumentError)
  })
})
