import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { tempDir } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { FrameReader } from '../../src/wire/reader.js'
import { feedFrames, onreadFor } from '../../src/wire/socket-reads.js'

function frames(sizes: number[]): Buffer {
  return Buffer.concat(
    sizes.flatMap((size, n) => {
      const head = Buffer.allocUnsafe(4)
      head.writeUInt32BE(size, 0)
      return [head, Buffer.alloc(size, n + 1)]
    }),
  )
}

const sizes = [10, 1 << 20, 3, 70_000, 20_000, 5, 4 << 20, 1]

const cleanup: (() => void)[] = []
afterEach(() => {
  // Sockets and servers first, the directory holding a unix socket last.
  for (const c of cleanup.splice(0).reverse()) c()
})

/** Listens on `where` (a unix path or TCP port 0); every accepted socket is fed to a reader. */
async function serve(where: string | 0) {
  const got: Buffer[] = []
  const modes: string[] = []
  const closed: string[] = []
  const server: Server = createServer((socket) => {
    const reader = new FrameReader(8 << 20, {
      frame: (b) => got.push(b),
      error: (e) => {
        closed.push(e.name)
        socket.destroy()
      },
    })
    modes.push(feedFrames(socket, reader))
  })
  await new Promise<void>((r) => (where === 0 ? server.listen(0, '127.0.0.1', r) : server.listen(where, r)))
  cleanup.push(() => server.close())
  const address = server.address()
  const target =
    typeof address === 'string' ? { path: address } : { host: '127.0.0.1', port: address?.port ?? 0 }
  return { got, modes, closed, target }
}

function dial(target: { path: string } | { host: string; port: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(target, () => resolve(s))
    s.once('error', reject)
    cleanup.push(() => s.destroy())
  })
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5))
}

describe.each([
  [
    'unix',
    () => {
      const dir = tempDir()
      cleanup.push(dir.cleanup)
      return join(dir.path, 's.sock')
    },
  ],
  ['tcp', () => 0 as const],
])('reads on %s sockets', (_kind, where) => {
  it('an accepted socket reads straight into the frame reader, every frame intact', async () => {
    const srv = await serve(where())
    const s = await dial(srv.target)
    s.write(frames(sizes))
    await until(() => srv.got.length === sizes.length)
    expect(srv.modes).toEqual(['direct'])
    expect(srv.got.map((f) => f.length)).toEqual(sizes)
    expect(srv.got.map((f, n) => f.every((b) => b === n + 1))).toEqual(sizes.map(() => true))
  })

  it('an oversized frame is refused from its header and only that connection closes', async () => {
    const srv = await serve(where())
    const bad = await dial(srv.target)
    const good = await dial(srv.target)
    const badClosed = new Promise((r) => bad.once('close', r))
    bad.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]))
    await badClosed
    good.write(frames([100]))
    await until(() => srv.got.length === 1)
    expect(srv.closed).toEqual(['PayloadTooLargeError'])
  })

  it('a socket that already received bytes falls back to its data events, losing nothing', async () => {
    const got: Buffer[] = []
    let mode = ''
    const srv = createServer((socket) => {
      const reader = new FrameReader(8 << 20, { frame: (b) => got.push(b), error: () => socket.destroy() })
      const start = (): void => {
        if (socket.readableLength === 0) return void setTimeout(start, 5)
        mode = feedFrames(socket, reader)
      }
      start()
    })
    const w = where()
    await new Promise<void>((r) => (w === 0 ? srv.listen(0, '127.0.0.1', r) : srv.listen(w, r)))
    cleanup.push(() => srv.close())
    const a = srv.address()
    const s = await dial(typeof a === 'string' ? { path: a } : { host: '127.0.0.1', port: a?.port ?? 0 })
    s.write(frames(sizes))
    await until(() => got.length === sizes.length)
    expect(mode).toBe('chunks')
    expect(got.map((f) => f.length)).toEqual(sizes)
  })

  it('a dialed socket with onreadFor feeds the reader', async () => {
    const srv = createServer((socket) => socket.end(frames(sizes)))
    const w = where()
    await new Promise<void>((r) => (w === 0 ? srv.listen(0, '127.0.0.1', r) : srv.listen(w, r)))
    cleanup.push(() => srv.close())
    const a = srv.address()
    const got: Buffer[] = []
    const reader = new FrameReader(8 << 20, {
      frame: (b) => got.push(b),
      error: (e) => got.push(Buffer.from(e.message)),
    })
    const opts = typeof a === 'string' ? { path: a } : { host: '127.0.0.1', port: a?.port ?? 0 }
    const s = connect({ ...opts, onread: onreadFor(reader) })
    cleanup.push(() => s.destroy())
    await new Promise((r) => s.once('close', r))
    expect(got.map((f) => f.length)).toEqual(sizes)
  })
})
