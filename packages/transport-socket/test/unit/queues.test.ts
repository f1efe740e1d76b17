import { ProtocolError } from '@unipc/core/spi'
import { describe, expect, it } from 'vitest'
import type { Peer } from '../../src/hub/peer.js'
import { QueueBroker } from '../../src/hub/queues.js'
import type { WireValue } from '../../src/wire/msgpack.js'
import { T } from '../../src/wire/protocol.js'

/** A peer that records the frames the broker sends it. */
function recordingPeer(id: number): Peer & { frames: WireValue[][] } {
  const frames: WireValue[][] = []
  return {
    id,
    address: `c-${id}`,
    frames,
    send: (fields) => frames.push(fields),
    sendDroppable: (fields) => frames.push(fields),
    sendDroppableFrame: () => {},
  }
}

const tags = (peer: { frames: WireValue[][] }): number[] =>
  peer.frames.filter((f) => f[0] === T.Deliver).map((f) => f[2] as number)

describe('queue broker', () => {
  it('Acks acknowledges several deliveries of a consumer at once and frees that many places', () => {
    const q = new QueueBroker()
    const worker = recordingPeer(1)
    q.consume(worker, 7, 'jobs', 3)
    for (let i = 0; i < 6; i++) q.push('jobs', Uint8Array.of(i))
    const first = tags(worker)
    expect(first).toHaveLength(3)
    expect(q.depth('jobs')).toBe(3)
    q.ackMany(worker, 7, [T.Acks, 7, first[0], first[2]] as WireValue[], 2)
    expect(tags(worker)).toHaveLength(5)
    expect(q.depth('jobs')).toBe(1)
    // Unknown and repeated tags change nothing.
    q.ackMany(worker, 7, [T.Acks, 7, first[0], 999_999] as WireValue[], 2)
    expect(tags(worker)).toHaveLength(5)
    // What was acknowledged is not redelivered when the worker goes away; the rest is.
    const other = recordingPeer(2)
    q.consume(other, 1, 'jobs', 10)
    q.dropPeer(worker)
    const redelivered = other.frames.filter((f) => f[0] === T.Deliver)
    expect(redelivered.filter((f) => f[3] === true)).toHaveLength(3)
    expect(redelivered).toHaveLength(4)
  })

  it('an Acks frame with a tag that is not an integer is a protocol error', () => {
    const q = new QueueBroker()
    const worker = recordingPeer(1)
    q.consume(worker, 1, 'jobs', 1)
    expect(() => q.ackMany(worker, 1, [T.Acks, 1, 'x'] as WireValue[], 2)).toThrow(ProtocolError)
  })

  it('introduces workers: Workers lists consumers with their direct URL, Crew follows every change', () => {
    const q = new QueueBroker()
    const sender = recordingPeer(1)
    const a = recordingPeer(2)
    const b = recordingPeer(3)
    q.consume(a, 5, 'jobs', 4, 'unix:///tmp/a.sock')
    expect(q.workers(sender, 'jobs')).toEqual(['c-2', 'unix:///tmp/a.sock', 5, 4])
    q.consume(b, 6, 'jobs', 2)
    q.unconsume(a, 5)
    q.dropPeer(b)
    const crews = sender.frames.filter((f) => f[0] === T.Crew)
    expect(crews).toEqual([
      [T.Crew, 'jobs', ['c-2', 'unix:///tmp/a.sock', 5, 4, 'c-3', null, 6, 2]],
      [T.Crew, 'jobs', ['c-3', null, 6, 2]],
      [T.Crew, 'jobs', []],
    ])
    // A sender that went away is told nothing more.
    q.dropPeer(sender)
    q.consume(a, 7, 'jobs', 1)
    expect(sender.frames.filter((f) => f[0] === T.Crew)).toHaveLength(3)
  })

  it("backlog counts a sender's own messages that wait for a worker, not delivered ones nor others'", () => {
    const q = new QueueBroker()
    const s1 = recordingPeer(1)
    const s2 = recordingPeer(2)
    const worker = recordingPeer(3)
    for (let i = 0; i < 3; i++) q.push('jobs', Uint8Array.of(i), false, s1.id)
    q.push('jobs', Uint8Array.of(9), false, s2.id)
    expect(q.backlog('jobs', s1)).toBe(3)
    expect(q.backlog('jobs', s2)).toBe(1)
    q.consume(worker, 1, 'jobs', 2)
    expect(q.backlog('jobs', s1)).toBe(1)
    // Delivered and then returned (the worker's connection dropped): waiting again.
    q.dropPeer(worker)
    expect(q.backlog('jobs', s1)).toBe(3)
    expect(q.backlog('other', s1)).toBe(0)
  })
})
