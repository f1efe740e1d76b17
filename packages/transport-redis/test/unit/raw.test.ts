import { describe, expect, it } from 'vitest'
import { encode, encode1, encodeHead, RespHead } from '../../src/raw.js'

const resp = (...args: (string | Buffer)[]): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a.toString('latin1')}\r\n`).join('')}`

describe('hand-encoded commands', () => {
  it('encodes a fixed head, a head with one byte array and a head with several arguments exactly as RESP', () => {
    const read = new RespHead(['XREADGROUP', 'GROUP', 'servers', 'c.1', 'STREAMS', 'unipc:rq:{é}', '>'])
    expect(read.name).toBe('xreadgroup')
    expect(encodeHead(read).toString('latin1')).toBe(
      resp('XREADGROUP', 'GROUP', 'servers', 'c.1', 'STREAMS', Buffer.from('unipc:rq:{é}'), '>'),
    )
    const publish = new RespHead(['PUBLISH', 'unipc:inbox:x'])
    const bytes = Buffer.from([0, 13, 10, 255, 36])
    expect(encode1(publish, new Uint8Array(bytes)).toString('latin1')).toBe(
      resp('PUBLISH', 'unipc:inbox:x', bytes),
    )
    expect(encode1(publish, Buffer.alloc(0)).toString('latin1')).toBe(resp('PUBLISH', 'unipc:inbox:x', ''))
    const big = Buffer.alloc(5000, 7)
    expect(encode1(publish, big).equals(Buffer.from(resp('PUBLISH', 'unipc:inbox:x', big), 'latin1'))).toBe(
      true,
    )
    const ack = new RespHead(['XACK', 'unipc:rq:{m}', 'servers'])
    expect(encode(ack, ['1-0', 'ü-1', bytes]).toString('latin1')).toBe(
      resp('XACK', 'unipc:rq:{m}', 'servers', '1-0', Buffer.from('ü-1'), bytes),
    )
  })
})
