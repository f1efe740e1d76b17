/**
 * Stream credit between peers of different versions on one bus. The "old" peer here is written
 * against the raw in-process transport with a general msgpack encoder and knows only the frames of
 * versions before byte credit: a 9-field Request, a 3-field Accepted, a 4-field Credit. A new peer
 * must fall back to item credit with it, in both roles, or the stream stalls or overruns.
 */
import { Packr } from 'msgpackr'
import { afterEach, describe, expect, it } from 'vitest'
import { type Bus, connect, ProtocolError } from '../../src/index.js'
import { FrameKind, RequestFlag } from '../../src/internal/frames.js'
import { silentLogger } from '../../src/logger.js'
import { createMemoryTransport } from '../../src/memory/memory-transport.js'
import type { Closable, Transport } from '../../src/spi.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` holds (polling), failing after 5 s with `what`. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 5000; !check(); await sleep(2))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
}

const cleanup: (Bus | Transport | Closable)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close()
})

/** A raw transport on the in-process bus `name`, as an old peer uses it. */
async function rawPeer(name: string): Promise<Transport> {
  const raw = createMemoryTransport(new URL(`memory://${name}`))
  await raw.open({ component: undefined, logger: silentLogger, onState: () => {} })
  cleanup.push(raw)
  return raw
}

async function bus(name: string): Promise<Bus> {
  const b = await connect(`memory://${name}`)
  cleanup.push(b)
  return b
}

describe('stream credit with a peer of an older version', () => {
  it('a new caller grants item credit to an old server, which never sees byte fields', async () => {
    const name = `credit-old-server-${process.pid}`
    const raw = await rawPeer(name)
    const credits: unknown[][] = []
    let window = -1
    let fields = -1
    let sent = 0
    let granted = 0
    const total = 2000
    // The old server: item credit from the 9th field, Credit frames read as [kind, id, caller, n].
    let push: (() => void) | undefined
    raw.messaging.onMessage((bytes) => {
      const f = packr.unpack(bytes) as unknown[]
      if (f[0] !== FrameKind.Credit) return
      credits.push(f)
      granted += f[3] as number
      push?.()
    })
    const serving = await raw.messaging.serve('old', (delivery) => {
      const f = packr.unpack(delivery.data) as unknown[]
      fields = f.length
      const [, id, , , replyTo, flags] = f as [number, number, string, Uint8Array, string, number]
      window = f[8] as number
      expect(flags & RequestFlag.Stream).toBeTruthy()
      void raw.messaging.send(replyTo, packr.pack([FrameKind.Accepted, id, raw.messaging.address]))
      push = () => {
        while (sent < total && sent < window + granted) {
          sent++
          void raw.messaging.send(replyTo, packr.pack([FrameKind.Item, id, packr.pack(new Uint8Array(64))]))
        }
        if (sent === total) {
          void raw.messaging.send(replyTo, packr.pack([FrameKind.End, id]))
          delivery.ack()
          push = undefined
        }
      }
      push()
    })
    cleanup.push(serving)
    const caller = await bus(name)
    let got = 0
    for await (const item of caller.requests.stream<Uint8Array>('old')) {
      expect(item.length).toBe(64)
      got++
    }
    expect(got).toBe(total)
    // The new fields were appended after the old ones (an old decoder reads its 9 and stops).
    expect(fields).toBe(11)
    expect(window).toBe(256)
    // Item credit as before: every 128 items, in 4-field frames (no byte count).
    expect(credits.length).toBeGreaterThan(0)
    for (const c of credits) {
      expect(c).toHaveLength(4)
      expect(c[3]).toBe(128)
    }
  })

  it('a new server gives an old caller item credit only, however large the items', async () => {
    const name = `credit-old-caller-${process.pid}`
    const server = await bus(name)
    let produced = 0
    await server.requests.serve('big', function* () {
      for (;;) {
        produced++
        yield Buffer.alloc(100_000)
      }
    })
    const raw = await rawPeer(name)
    const frames: unknown[][] = []
    raw.messaging.onMessage((bytes) => frames.push(packr.unpack(bytes) as unknown[]))
    const id = 7
    const caller = raw.messaging.address
    // The old caller's request: 9 fields, an item window of 4 (700 KB ahead: no byte window applies).
    const request = [FrameKind.Request, id, 'big', packr.pack(null), caller, 3, 0, '', 4]
    await raw.messaging.dispatch('big', packr.pack(request))
    const items = (): number => frames.filter((f) => f[0] === FrameKind.Item).length
    // An old caller does not read Items frames (it did not set RequestFlag.Batch): one item per frame.
    const batched = (): number => frames.filter((f) => f[0] === FrameKind.Items).length
    await until(() => items() === 4, '4 items')
    await sleep(50)
    expect(items()).toBe(4)
    const accepted = frames[0] as unknown[]
    expect(accepted[0]).toBe(FrameKind.Accepted)
    // No byte window echoed: an old caller reads [kind, id, server] and nothing more is there.
    expect(accepted).toHaveLength(3)
    const server_ = accepted[2] as string
    await raw.messaging.send(server_, packr.pack([FrameKind.Credit, id, caller, 2]))
    await until(() => items() === 6, '2 more items')
    await sleep(50)
    expect(items()).toBe(6)
    // The server pulled only what it could send, plus at most one it holds.
    expect(produced).toBeLessThanOrEqual(7)
    expect(batched()).toBe(0)
    await raw.messaging.send(server_, packr.pack([FrameKind.Cancel, id, caller]))
  })
})

describe('stream credit between new peers', () => {
  it('keeps the bytes and items a server sends ahead within the windows the caller asked for', async () => {
    const name = `credit-new-${process.pid}`
    const server = await bus(name)
    const sizes = [10, 3000, 200, 50_000, 7, 700, 20_000, 1, 9000]
    let index = 0
    await server.requests.serve('mixed', function* () {
      for (let i = 0; i < 400; i++) yield Buffer.alloc(sizes[index++ % sizes.length] as number, i & 0xff)
    })
    const caller = await bus(name)
    const windowBytes = 16_384
    const window = 20
    let consumedBytes = 0
    let got = 0
    for await (const item of caller.requests.stream<Buffer>('mixed', undefined, { window, windowBytes })) {
      // Bytes of the items produced so far that the consumer has not taken yet (body bytes: data
      // plus a 2-3 byte msgpack header).
      const size = item.length + (item.length < 256 ? 2 : 3)
      consumedBytes += size
      got++
      let ahead = 0
      for (let i = got; i < index; i++) {
        const n = sizes[i % sizes.length] as number
        ahead += n + (n < 256 ? 2 : 3)
      }
      const largest = 50_003
      expect(index - got).toBeLessThanOrEqual(window + 1)
      expect(ahead).toBeLessThanOrEqual(Math.max(windowBytes, windowBytes / 2 + largest) + largest)
      if (got % 7 === 0) await sleep(1)
    }
    expect(got).toBe(400)
    expect(consumedBytes).toBeGreaterThan(0)
  })
})

describe('stream items read in place from their frames', () => {
  it('decodes every codec, and counts bytes the same way on both sides', async () => {
    for (const codec of ['json', 'msgpack'] as const) {
      const url = `memory://credit-codec-${codec}-${process.pid}`
      const server = await connect(url, { codec })
      cleanup.push(server)
      await server.requests.serve('values', function* () {
        for (let i = 0; i < 300; i++) yield { i, tag: 'x'.repeat(i % 50), list: [i, [i]] }
      })
      const caller = await connect(url, { codec })
      cleanup.push(caller)
      const got: unknown[] = []
      // A byte window of a few items: if the sides counted bytes differently the stream would stall.
      for await (const v of caller.requests.stream('values', undefined, { windowBytes: 200 })) got.push(v)
      expect(got).toEqual(
        Array.from({ length: 300 }, (_, i) => ({ i, tag: 'x'.repeat(i % 50), list: [i, [i]] })),
      )
    }
  })
})

describe('Items frames (several stream items in one frame)', () => {
  it('carry a fast producer to a new caller in order, and stop where the consumer stops', async () => {
    const name = `items-${process.pid}`
    const server = await bus(name)
    await server.requests.serve('count', function* (n: number) {
      for (let i = 0; i < n; i++) yield i % 3 === 0 ? Buffer.alloc(i % 5000, i & 0xff) : i
    })
    const caller = await bus(name)
    const got: unknown[] = []
    for await (const v of caller.requests.stream('count', 5000)) got.push(v)
    expect(got).toHaveLength(5000)
    got.forEach((v, i) => {
      if (i % 3 === 0) expect(Buffer.from(v as Buffer).equals(Buffer.alloc(i % 5000, i & 0xff))).toBe(true)
      else expect(v).toBe(i)
    })
    // Breaking out in the middle of a batch delivers nothing more.
    let seen = 0
    for await (const _ of caller.requests.stream('count', 5000)) if (++seen === 10) break
    expect(seen).toBe(10)
    const values: unknown[] = []
    const sub = caller.requests.stream('count', 5000).subscribe((v) => {
      values.push(v)
      if (values.length === 25) sub.unsubscribe()
    })
    await sleep(50)
    expect(values).toHaveLength(25)
  })

  it('a malformed Items frame fails the stream with ProtocolError, after the items before it', async () => {
    const name = `items-bad-${process.pid}`
    const raw = await rawPeer(name)
    const serving = await raw.messaging.serve('bad', (delivery) => {
      const f = packr.unpack(delivery.data) as unknown[]
      const [, id, , , replyTo, flags] = f as [number, number, string, Uint8Array, string, number]
      expect(flags & RequestFlag.Batch).toBeTruthy()
      void raw.messaging.send(replyTo, packr.pack([FrameKind.Accepted, id, raw.messaging.address]))
      // An array16 Items frame that claims 3 bodies and holds 2 (msgpack ints as bodies: 1 and 2).
      const frame = Buffer.from([0xdc, 0, 5, FrameKind.Items, id, 0xc4, 1, 1, 0xc4, 1, 2])
      void raw.messaging.send(replyTo, frame)
      delivery.ack()
    })
    cleanup.push(serving)
    const caller = await bus(name)
    const got: unknown[] = []
    let failure: unknown
    try {
      for await (const v of caller.requests.stream('bad')) got.push(v)
    } catch (err) {
      failure = err
    }
    expect(got).toEqual([1, 2])
    expect(failure).toBeInstanceOf(ProtocolError)
  })
})
