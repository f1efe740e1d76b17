import { startRedis, type TestRedis } from '@unipc/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode1, encodeHead, RespHead, sendRaw } from '../../src/raw.js'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

/** Sends a raw command and resolves with its reply; counts the commands that went through sendCommand. */
function counting(client: Redis): { sent: () => number } {
  let n = 0
  const orig = client.sendCommand.bind(client)
  client.sendCommand = ((c: Parameters<Redis['sendCommand']>[0]) => {
    n++
    return orig(c)
  }) as Redis['sendCommand']
  return { sent: () => n }
}

const raw = (client: Redis, head: RespHead, bytes: Buffer): Promise<unknown> =>
  new Promise((resolve, reject) => sendRaw(client, head, bytes, (err, v) => (err ? reject(err) : resolve(v))))

describe('hand-encoded commands on an ioredis connection', () => {
  it('go straight to the socket on a ready connection, replies matched in order with ioredis commands', async () => {
    const client = new Redis({ path: redis.socketPath })
    try {
      await client.ping()
      const via = counting(client)
      const set = new RespHead(['SET', 'raw:k'])
      const get = new RespHead(['GET', 'raw:k'])
      const replies = await Promise.all([
        raw(client, set, encode1(set, Buffer.from('v1'))),
        client.get('raw:k'),
        raw(client, get, encodeHead(get)),
      ])
      expect(replies.map(String)).toEqual(['OK', 'v1', 'v1'])
      expect(via.sent()).toBe(1) // only ioredis's own GET
      await expect(
        raw(client, new RespHead(['INCR', 'raw:k']), encodeHead(new RespHead(['INCR', 'raw:k']))),
      ).rejects.toThrow(/not an integer/)
    } finally {
      client.disconnect()
    }
  })

  it('wait in the offline queue of a connection that is not ready yet and are sent once it is', async () => {
    const client = new Redis({ path: redis.socketPath, lazyConnect: true })
    try {
      const via = counting(client)
      const echo = new RespHead(['ECHO'])
      const reply = raw(client, echo, encode1(echo, Buffer.from('later')))
      expect(via.sent()).toBe(1)
      expect(String(await reply)).toBe('later')
    } finally {
      client.disconnect()
    }
  })
})
