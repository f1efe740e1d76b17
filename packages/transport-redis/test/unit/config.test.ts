import { InvalidArgumentError } from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/config.js'

describe('resolveConfig', () => {
  it('reads host, port, db and ACL credentials from a redis:// URL', () => {
    const c = resolveConfig(new URL('redis://app:s%40cret@10.0.0.5:6380/2'))
    expect(c.mode).toBe('standalone')
    expect(c.redisOptions).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      username: 'app',
      password: 's@cret',
    })
    expect(c.target).toBe('10.0.0.5:6380')
    expect(c.prefix).toBe('unipc:')
  })

  it('reads a socket path and query options from a redis+unix:// URL', () => {
    const c = resolveConfig(
      new URL('redis+unix:///run/redis.sock?db=3&prefix=app1:&compat=redis-ipc&workerTtl=500'),
    )
    expect(c.redisOptions).toMatchObject({ path: '/run/redis.sock', db: 3 })
    expect(c.prefix).toBe('app1:')
    expect(c.compat).toBe('redis-ipc')
    expect(c.workerTtl).toBe(500)
  })

  it('turns on TLS for rediss:// and lets options override the URL', () => {
    const c = resolveConfig(new URL('rediss://u:p@h:1'), {
      password: 'other',
      prefix: 'x:',
      tls: { servername: 'h' },
    })
    expect(c.redisOptions.tls).toEqual({ servername: 'h' })
    expect(c.redisOptions.password).toBe('other')
    expect(c.prefix).toBe('x:')
  })

  it('builds Cluster and Sentinel configurations from options', () => {
    const cluster = resolveConfig(new URL('redis://a:7000'), {
      cluster: [{ host: 'a', port: 7000 }],
      password: 'pw',
    })
    expect(cluster.mode).toBe('cluster')
    expect(cluster.clusterNodes).toEqual([{ host: 'a', port: 7000 }])
    expect(cluster.clusterOptions.redisOptions?.password).toBe('pw')
    const sentinel = resolveConfig(new URL('redis://ignored'), {
      sentinels: [{ host: 's', port: 26379 }],
      sentinelName: 'm',
    })
    expect(sentinel.mode).toBe('sentinel')
    expect(sentinel.redisOptions).toMatchObject({ sentinels: [{ host: 's', port: 26379 }], name: 'm' })
    expect(sentinel.redisOptions.host).toBeUndefined()
  })

  it('rejects malformed URLs and options with InvalidArgumentError', () => {
    expect(() => resolveConfig(new URL('redis+unix://'))).toThrow(InvalidArgumentError)
    expect(() => resolveConfig(new URL('redis://h/x'))).toThrow(/db must be an integer/)
    expect(() => resolveConfig(new URL('redis://h?compat=rpc'))).toThrow(/unknown compat mode/)
    expect(() => resolveConfig(new URL('redis://h?workerTtl=5'))).toThrow(InvalidArgumentError)
    expect(() => resolveConfig(new URL('http://h'))).toThrow(/not a Redis URL/)
  })
})
