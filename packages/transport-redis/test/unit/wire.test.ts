import { msgpackCodec } from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { fromStored, toStored } from '../../src/compat/redis-ipc/maps.js'
import { coreChannel, redisChannel, timestamp } from '../../src/compat/redis-ipc/wire.js'
import { escapeGlob, patternToGlob } from '../../src/native/keys.js'
import { parseChange } from '../../src/native/maps.js'

const text = (b: Uint8Array): string => Buffer.from(b).toString()

describe('native wire helpers', () => {
  it('translates core patterns into Redis globs that match a superset', () => {
    expect(patternToGlob('a.*')).toBe('a.*')
    expect(patternToGlob('a.>')).toBe('a.*')
    expect(patternToGlob('cam*.x')).toBe('cam*.x')
    expect(patternToGlob('a[1]?.*')).toBe('a\\[1\\]\\?.*')
    expect(escapeGlob('unipc:ev:')).toBe('unipc:ev:')
  })

  it('parses map change notifications and rejects malformed ones', () => {
    const set = parseChange(Buffer.concat([Buffer.from('s4:mode'), Buffer.from([0xa4, 0x61])]))
    expect(set?.key).toBe('mode')
    expect([...(set?.value ?? [])]).toEqual([0xa4, 0x61])
    expect(parseChange(Buffer.from('d5:gain2'))).toEqual({ key: 'gain2', value: undefined })
    expect(parseChange(Buffer.from('x1:a'))).toBeUndefined()
    expect(parseChange(Buffer.from('s9:ab'))).toBeUndefined()
  })
})

describe('redis-ipc wire helpers', () => {
  it('stores JSON strings as plain text and other values as JSON text', () => {
    const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
    expect(toStored('mode', json('auto'))).toBe('auto')
    expect(toStored('gain', json(10))).toBe('10')
    expect(toStored('roi', json({ x: 1 }))).toBe('{"x":1}')
    expect(text(fromStored('mode', 'auto'))).toBe('"auto"')
    expect(text(fromStored('gain', '10'))).toBe('10')
    expect(() => toStored('gain', msgpackCodec.encode(10.5))).toThrow(/codec: 'json'/)
  })

  it('keeps the heartbeat readable as JSON and round-trips it', () => {
    const beat = msgpackCodec.encode({ at: 1700000000000, ttl: 3000 })
    expect(toStored('$alive', beat)).toBe('{"at":1700000000000,"ttl":3000}')
    expect(msgpackCodec.decode(fromStored('$alive', toStored('$alive', beat)))).toEqual({
      at: 1700000000000,
      ttl: 3000,
    })
  })

  it('maps channels to channel.events.* and debug.* to channel.debug.*', () => {
    expect(redisChannel('camera.frame')).toBe('channel.events.camera.frame')
    expect(redisChannel('debug.camera')).toBe('channel.debug.camera')
    expect(coreChannel('channel.events.camera.frame')).toBe('camera.frame')
    expect(coreChannel('channel.debug.camera')).toBe('debug.camera')
  })

  it('writes timestamps as seconds and six digits of microseconds', () => {
    expect(timestamp(1700000000123)).toBe('1700000000.123000')
    expect(timestamp(1700000000005)).toBe('1700000000.005000')
  })
})
