import { describe, expect, it } from 'vitest'
import type { Client } from '../../src/client.js'
import { ENVELOPE, forEachFrame, packFrames } from '../../src/native/envelope.js'
import { TurnBatcher } from '../../src/turn.js'

const frames = (message: Buffer): string[] => {
  const out: string[] = []
  forEachFrame(message, (f) => out.push(f.toString()))
  return out
}

describe('inbox envelopes', () => {
  it('packs frames in order and unpacks them as views', () => {
    const packed = packFrames([Buffer.from('one'), Buffer.from(''), Buffer.from('three')])
    expect(packed[0]).toBe(ENVELOPE)
    expect(frames(packed)).toEqual(['one', '', 'three'])
  })

  it('passes a lone frame (a msgpack array) through untouched', () => {
    const frame = Buffer.from([0x93, 0x03, 0x01, 0xc0])
    const seen: Buffer[] = []
    expect(forEachFrame(frame, (f) => seen.push(f))).toBe(true)
    expect(seen).toEqual([frame])
  })

  it('reports a truncated envelope after delivering its whole frames', () => {
    const packed = packFrames([Buffer.from('ab'), Buffer.from('cdef')])
    const seen: string[] = []
    expect(forEachFrame(packed.subarray(0, packed.length - 1), (f) => seen.push(f.toString()))).toBe(false)
    expect(seen).toEqual(['ab'])
  })
})

describe('turn batcher', () => {
  it('runs the tasks of one turn once, at its end, late ones last, inside one cork', async () => {
    const log: string[] = []
    const stream = {
      writableCorked: 0,
      cork() {
        this.writableCorked++
        log.push('cork')
      },
      uncork() {
        this.writableCorked--
        log.push('uncork')
      },
    }
    const batcher = new TurnBatcher({ stream } as unknown as Client, (err) => log.push(`error ${err}`))
    batcher.schedule(() => log.push('ack'), true)
    batcher.schedule(() => log.push('reply'))
    batcher.schedule(() => {
      throw new Error('boom')
    })
    batcher.schedule(() => log.push('dispatch'))
    expect(log).toEqual([])
    await new Promise((r) => setImmediate(r))
    expect(log).toEqual(['cork', 'reply', 'error Error: boom', 'dispatch', 'ack', 'uncork'])
  })

  it('runs afterFlush tasks once the writes of the turn are uncorked, also when nothing else was scheduled', async () => {
    const log: string[] = []
    const stream = {
      writableCorked: 0,
      cork() {
        log.push('cork')
      },
      uncork() {
        log.push('uncork')
      },
    }
    const batcher = new TurnBatcher({ stream } as unknown as Client, (err) => log.push(`error ${err}`))
    batcher.afterFlush(() => log.push('re-arm'))
    batcher.schedule(() => log.push('reply'))
    batcher.schedule(() => log.push('ack'), true)
    expect(log).toEqual([])
    await new Promise((r) => setImmediate(r))
    expect(log).toEqual(['cork', 'reply', 'ack', 'uncork', 're-arm'])
    log.length = 0
    batcher.afterFlush(() => log.push('alone'))
    await new Promise((r) => setImmediate(r))
    expect(log).toEqual(['alone'])
  })
})
