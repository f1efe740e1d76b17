import { execFileSync } from 'node:child_process'
import { chmodSync, closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { addon } from '../../src/load-addon.js'
import type { NativeLink } from '../../src/native.js'
import { segmentName } from '../../src/paths.js'

const made: string[] = []
const fresh = (kind: 'l' | 's' | 'b' = 'l'): string => {
  const name = segmentName('unit', kind)
  made.push(name)
  return name
}
const links: NativeLink[] = []
afterEach(() => {
  for (const l of links.splice(0)) l.close()
  for (const n of made.splice(0)) addon.unlinkSegment(n)
})

/** A fresh link segment created by `a` (4096-byte rings) and mapped by `b`; both closed after the test. */
function linkPair(): { name: string; a: NativeLink; b: NativeLink } {
  const name = fresh()
  const a = addon.Link.create(name, 4096)
  const b = addon.Link.open(name, 1 << 20)
  links.push(a, b)
  return { name, a, b }
}

/** Overwrites bytes of a segment the way a corrupt or hostile peer could. */
function poke(name: string, offset: number, bytes: Buffer): void {
  const fd = openSync(`/dev/shm${name}`, 'r+')
  try {
    writeSync(fd, bytes, 0, bytes.length, offset)
  } finally {
    closeSync(fd)
  }
}

const RING0_CONTROL = 256
const RING0_DATA = 512

describe('native link segments', () => {
  it('creates link segments with mode 0600 and refuses an existing name (O_EXCL)', () => {
    const name = fresh()
    const a = addon.Link.create(name, 4096)
    expect(statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600)
    expect(() => addon.Link.create(name, 4096)).toThrow(expect.objectContaining({ code: 'EEXIST' }))
    a.close()
  })

  it('refuses to open a segment other users could read', () => {
    const name = fresh()
    addon.Link.create(name, 4096).close()
    chmodSync(`/dev/shm${name}`, 0o644)
    expect(() => addon.Link.open(name, 1 << 20)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_PERMISSION' }),
    )
  })

  it('refuses a segment whose header is not a unipc link', () => {
    const name = fresh()
    addon.Link.create(name, 4096).close()
    poke(name, 0, Buffer.from('NOTUNIPC'))
    expect(() => addon.Link.open(name, 1 << 20)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }),
    )
  })

  it('writes a batch of frames in one call, stops at a full ring, and refuses malformed records', () => {
    const { a, b } = linkPair()
    const record = (type: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(8)
      h.writeUInt32LE(payload.length, 0)
      h.writeUInt32LE(type, 4)
      return Buffer.concat([h, payload])
    }
    // 40 frames of 200 bytes do not fit a 4 KiB ring: the first ones go in, the rest wait.
    const frames = Array.from({ length: 40 }, (_, i) => record(7, Buffer.alloc(200, i)))
    const all = Buffer.concat(frames)
    const done = a.writeBatch(all, all.length, true)
    expect(done).toBeGreaterThan(0)
    expect(done).toBeLessThan(all.length)
    expect(done % 208).toBe(0)
    const got: number[] = []
    const drain = (): void => {
      for (let buf = b.read(1 << 20); buf; buf = b.read(1 << 20)) {
        for (let at = 0; at < buf.length; ) {
          const len = buf.readUInt32LE(at)
          expect(buf.readUInt32LE(at + 4)).toBe(7)
          got.push(buf[at + 8] as number)
          at += 8 + len
        }
      }
    }
    drain()
    for (let at = done; at < all.length; drain()) {
      const rest = all.subarray(at)
      const n = a.writeBatch(rest, rest.length, true)
      expect(n).toBeGreaterThan(0)
      at += n
    }
    expect(got).toEqual([...Array(40).keys()])
    // A record whose length runs past the batch, or a trailing fragment, is refused.
    const bad = record(7, Buffer.alloc(16))
    bad.writeUInt32LE(1000, 0)
    expect(() => a.writeBatch(bad, bad.length, true)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    )
    expect(() => a.writeBatch(Buffer.alloc(4), 4, true)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    )
    expect(() => a.writeBatch(Buffer.alloc(8), 16, true)).toThrow(RangeError)
  })

  it('slabs: 0600, reused from offset 0, full means -1, and hostile descriptors are refused', () => {
    const name = fresh('s')
    const cap = 1 << 16
    const w = new addon.Slab(name, cap, true)
    expect(statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600)
    expect(() => new addon.Slab(name, cap, true)).toThrow(expect.objectContaining({ code: 'EEXIST' }))
    const r = new addon.Slab(name, cap, false)
    const a = Buffer.alloc(40_000, 1)
    const b = Buffer.alloc(40_000, 2)
    const p1 = w.write(undefined, a)
    expect(p1).toBe(0)
    // Not taken yet: a second 40 KB payload does not fit a 64 KiB slab.
    expect(w.write(undefined, b)).toBe(-1)
    expect(r.read(p1, a.length).equals(a)).toBe(true)
    // Taken: the next one starts at offset 0 again, into a caller-given buffer.
    const p2 = w.write(Buffer.from('head'), b)
    expect(p2 % cap).toBe(0)
    const into = Buffer.allocUnsafe(b.length + 4)
    const got = r.read(p2, b.length + 4, into)
    expect(got).toBe(into)
    expect(got.subarray(0, 4).toString()).toBe('head')
    expect(got.subarray(4).equals(b)).toBe(true)
    // Ranges a hostile writer could name: behind the head, too long, straddling the end, far ahead.
    for (const [pos, len] of [
      [p2, 10],
      [p2 + b.length + 4, cap + 1],
      [p2 + cap + cap - 10, 100],
      [p2 + 10 * cap, 100],
    ] as const) {
      expect(() => r.read(pos, len)).toThrow(expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }))
    }
    w.close()
    r.close()
    // A slab other users could read, or one that is not a slab, is refused.
    chmodSync(`/dev/shm${name}`, 0o644)
    expect(() => new addon.Slab(name, cap, false)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_PERMISSION' }),
    )
    const link = fresh()
    addon.Link.create(link, 1 << 16).close()
    expect(() => new addon.Slab(link, 1 << 20, false)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }),
    )
  })

  it('slabs take a payload in parts, copied one after the other, and refuse a non-byte part', () => {
    const name = fresh('s')
    const cap = 1 << 16
    const w = new addon.Slab(name, cap, true)
    const r = new addon.Slab(name, cap, false)
    const parts = [Buffer.from('start'), new Uint8Array(30_000).fill(7), Buffer.alloc(0), Buffer.from('end')]
    const joined = Buffer.concat(parts)
    const at = w.write(undefined, parts)
    expect(r.read(at, joined.length).equals(joined)).toBe(true)
    // Parts that together exceed the slab do not fit, even when each one would.
    expect(w.write(undefined, [Buffer.alloc(40_000), Buffer.alloc(40_000)])).toBe(-1)
    expect(() => w.write(undefined, [Buffer.alloc(4), 'text' as unknown as Uint8Array])).toThrow(TypeError)
    w.close()
    r.close()
  })

  it('carries frames in order in both directions, across many wraps of the ring', () => {
    const { a, b } = linkPair()
    let sent = 0
    let received = 0
    for (let round = 0; round < 200; round++) {
      while (a.write(7, Buffer.from(`msg-${sent}-`.padEnd(50 + (sent % 300), 'x')))) sent++
      for (let batch = b.read(1 << 20); batch; batch = b.read(1 << 20)) {
        for (let at = 0; at < batch.length; ) {
          const len = batch.readUInt32LE(at)
          expect(batch.readUInt32LE(at + 4)).toBe(7)
          expect(batch.toString('utf8', at + 8, at + 8 + len)).toBe(
            `msg-${received}-`.padEnd(50 + (received % 300), 'x'),
          )
          received++
          at += 8 + len
        }
      }
    }
    expect(received).toBe(sent)
    expect(sent).toBeGreaterThan(1000)
    expect(b.write(9, Buffer.from('back'))).toBe(true)
    expect(a.read(1024)?.toString('utf8', 8)).toBe('back')
  })

  it('read(max, arm) arms an empty ring in the same call, and never arms one holding data', () => {
    const { a, b } = linkPair()
    const IN_ARMED = 6
    expect(b.read(1024, true)).toBeUndefined()
    expect(b.stats()[IN_ARMED]).toBe(1)
    // The writer finds the reader armed, disarms it and would ring its bell.
    expect(a.write(3, Buffer.from('one'))).toBe(true)
    expect(b.stats()[IN_ARMED]).toBe(0)
    expect(a.write(3, Buffer.from('two'))).toBe(true)
    const batch = b.read(1024, true)
    expect(batch?.toString('utf8', 8, 11)).toBe('one')
    expect(b.stats()[IN_ARMED]).toBe(0)
    // Without `arm` an empty read leaves the flag alone.
    expect(b.read(1024)).toBeUndefined()
    expect(b.stats()[IN_ARMED]).toBe(0)
    expect(b.read(1024, true)).toBeUndefined()
    expect(b.stats()[IN_ARMED]).toBe(1)
  })

  it('read(max, arm, into, offset) copies into the given buffer, only what fits in the room left', () => {
    const { a, b } = linkPair()
    const into = Buffer.alloc(64)
    expect(b.read(1024, false, into, 0)).toBe(0)
    expect(a.write(3, Buffer.from('one'))).toBe(true)
    expect(a.write(4, Buffer.alloc(40, 7))).toBe(true)
    // Only the first record (8 + 3 bytes) fits in front of the 40-byte one: the second waits.
    expect(b.read(1024, false, into, 10)).toBe(21)
    expect(into.readUInt32LE(10)).toBe(3)
    expect(into.readUInt32LE(14)).toBe(3)
    expect(into.toString('utf8', 18, 21)).toBe('one')
    // The second needs 48 bytes and 43 are left: nothing taken, its size told.
    expect(b.read(1024, false, into, 21)).toBe(-48)
    expect(b.read(1024, false, into, 0)).toBe(48)
    expect(into.readUInt32LE(4)).toBe(4)
    expect(into[47]).toBe(7)
    // Empty with `arm`: 0 and armed.
    expect(b.read(1024, true, into, 0)).toBe(0)
    expect(b.stats()[6]).toBe(1)
    expect(() => b.read(1024, false, into, 64)).toThrow(RangeError)
    expect(() => b.read(1024, false, new Uint16Array(8) as unknown as Uint8Array, 0)).toThrow(TypeError)
  })

  it('linkWrite, linkRead and linkPending work by id on the registered buffers, and a closed id is refused', () => {
    const { name, a, b } = linkPair()
    const [linkRead, linkWrite, linkPending] = [addon.linkRead, addon.linkWrite, addon.linkPending]
    if (!linkRead || !linkWrite || !linkPending || !a.id || !b.id) throw new Error('addon without fast calls')
    expect(a.id).not.toBe(b.id)
    const stage = Buffer.alloc(64)
    stage.writeUInt32LE(3, 0)
    stage.writeUInt32LE(104, 4)
    stage.write('abc', 8)
    a.setStage?.(stage)
    const into = Buffer.alloc(32)
    b.setReadBuffer?.(into)
    expect(linkPending(b.id)).toBe(false)
    expect(linkRead(b.id, 1024, false, 0)).toBe(0)
    expect(linkWrite(a.id, 11, true)).toBe(11)
    expect(linkPending(b.id)).toBe(true)
    expect(linkRead(b.id, 1024, false, 5)).toBe(16)
    expect(into.readUInt32LE(5)).toBe(3)
    expect(into.readUInt32LE(9)).toBe(104)
    expect(into.toString('utf8', 13, 16)).toBe('abc')
    expect(linkPending(b.id)).toBe(false)
    // Lengths and offsets outside the registered buffers, and records the stage does not hold.
    expect(() => linkWrite(a.id as number, 65, true)).toThrow(RangeError)
    expect(() => linkRead(b.id as number, 1024, false, 32)).toThrow(RangeError)
    stage.writeUInt32LE(60, 0)
    expect(() => linkWrite(a.id as number, 20, true)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    )
    // A record larger than the room left: nothing taken, its size told (as read(…, into, offset)).
    stage.writeUInt32LE(20, 0)
    expect(linkWrite(a.id, 28, false)).toBe(28)
    expect(linkRead(b.id, 1024, false, 10)).toBe(-28)
    expect(linkRead(b.id, 1024, true, 0)).toBe(28)
    // Empty with `arm`: 0 and armed.
    expect(linkRead(b.id, 1024, true, 0)).toBe(0)
    expect(b.stats()[6]).toBe(1)
    const id = b.id
    b.close()
    expect(linkPending(id)).toBe(false)
    expect(() => linkRead(id, 1024, false, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_CLOSED' }),
    )
    // The slot of a closed link is used again with another id: the old one still finds nothing.
    const c = addon.Link.open(name, 1 << 20)
    expect(c.id).not.toBe(id)
    expect(() => linkRead(id, 1024, false, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_CLOSED' }),
    )
    c.close()
    const aid = a.id
    a.close()
    expect(() => linkWrite(aid, 0, false)).toThrow(expect.objectContaining({ code: 'ERR_UNIPC_SHM_CLOSED' }))
  })

  it('reports a corrupted frame length as ERR_UNIPC_SHM_CORRUPT and reads nothing', () => {
    const { name, a, b } = linkPair()
    expect(a.write(1, Buffer.alloc(100, 1))).toBe(true)
    const header = Buffer.alloc(4)
    header.writeUInt32LE(0x7fff_ffff)
    poke(name, RING0_DATA, header)
    expect(() => b.read(1 << 20)).toThrow(expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }))
    header.writeUInt32LE(3000) // fits the ring, but not the committed bytes
    poke(name, RING0_DATA, header)
    expect(() => b.read(1 << 20)).toThrow(/out of bounds/)
  })

  it('reports a tail position beyond the ring as corruption', () => {
    const { name, b } = linkPair()
    const tail = Buffer.alloc(8)
    tail.writeBigUInt64LE(1n << 40n)
    poke(name, RING0_CONTROL + 64, tail)
    expect(() => b.read(1 << 20)).toThrow(expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }))
  })

  it('refuses frames above a quarter of the ring (they travel as blobs)', () => {
    const name = fresh()
    const a = addon.Link.create(name, 4096)
    expect(() => a.write(1, Buffer.alloc(2000))).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_TOO_BIG' }),
    )
    a.close()
  })
})

describe('native blobs', () => {
  it('copies a blob in and out once, 0600, and removes it when read', () => {
    const name = fresh('b')
    const payload = Buffer.alloc(3 << 20, 0x5a)
    addon.writeBlob(name, Buffer.from('hd'), payload)
    expect(statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600)
    const back = addon.readBlob(name, payload.length + 2)
    expect(back.subarray(0, 2).toString()).toBe('hd')
    expect(back.subarray(2).equals(payload)).toBe(true)
    expect(existsSync(`/dev/shm${name}`)).toBe(false)
  })

  it('writes a blob given in parts', () => {
    const name = fresh('b')
    const parts = [Buffer.from('a'), Buffer.alloc(2 << 20, 0x11), Buffer.from('z')]
    addon.writeBlob(name, Buffer.from('hd'), parts)
    const back = addon.readBlob(name, 2 + (2 << 20) + 2)
    expect(back.equals(Buffer.concat([Buffer.from('hd'), ...parts]))).toBe(true)
  })

  it('refuses a blob whose size does not match its descriptor', () => {
    const name = fresh('b')
    addon.writeBlob(name, undefined, Buffer.alloc(100))
    expect(() => addon.readBlob(name, 5000)).toThrow(
      expect.objectContaining({ code: 'ERR_UNIPC_SHM_CORRUPT' }),
    )
  })

  it('rejects segment names that are paths', () => {
    expect(() => addon.Link.create('/../etc/x', 4096)).toThrow(/invalid segment name/)
  })
})

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  ?.glibcVersionRuntime

describe.skipIf(!glibc)('native malloc tuning (glibc)', () => {
  /** Runs `tuneMalloc()` twice in a fresh node process with `env`; returns both answers. */
  function tuneIn(env: Record<string, string>): string {
    const root = new URL('../..', import.meta.url).pathname
    const code = `const a = require('node-gyp-build')(${JSON.stringify(root)}); console.log(a.tuneMalloc(), a.tuneMalloc())`
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES'),
    )
    return execFileSync(process.execPath, ['-e', code], { env: { ...clean, ...env }, cwd: root })
      .toString()
      .trim()
  }

  it('keeps freed large buffers mapped once per process, unless the user set malloc options', () => {
    expect(tuneIn({})).toBe('true true')
    expect(tuneIn({ MALLOC_TRIM_THRESHOLD_: '131072' })).toBe('false false')
    expect(tuneIn({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' })).toBe('false false')
  })
})
