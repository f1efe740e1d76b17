/**
 * The fan-out credit channel: subscribers tell the publisher directly (over a unix socket of the
 * harness, not through the harness process, whose extra hop costs a scheduling delay on a busy
 * machine) the highest event they have seen. The publisher stays at most a window ahead of the
 * slowest. Each report is 8 bytes: subscriber index and sequence number, big-endian uint32.
 * @module
 */
import { unlinkSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FanoutLink } from './drivers.js'

/** The channel's socket path for a run. */
export const creditPath = (runId: string): string => join(tmpdir(), `ub-credit-${runId}.sock`)

/** Publisher side: listens for reports from `subscribers` subscribers. */
export async function creditServer(
  path: string,
  subscribers: number,
): Promise<{ link: FanoutLink; close(): Promise<void> }> {
  const highest = new Array<number>(subscribers).fill(-1)
  let credit = -1
  let waiters: (() => void)[] = []
  let joined: () => void = () => {}
  const joinedP = new Promise<void>((r) => {
    joined = r
  })
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    let rest: Buffer = Buffer.alloc(0)
    s.on('data', (chunk: Buffer) => {
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk
      let off = 0
      for (; off + 8 <= buf.length; off += 8) {
        const index = buf.readUInt32BE(off)
        const seq = buf.readUInt32BE(off + 4)
        if (index < subscribers && seq > highest[index]!) highest[index] = seq
      }
      rest = buf.subarray(off)
      const min = Math.min(...highest)
      if (min >= 0 && credit < 0) joined()
      if (min > credit) {
        credit = min
        const w = waiters
        waiters = []
        for (const f of w) f()
      }
    })
  })
  try {
    unlinkSync(path)
  } catch {
    // No stale socket: fine.
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, resolve)
  })
  return {
    link: {
      joined: joinedP,
      credit: () => Math.max(0, credit),
      waitCredit: (ms) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms)
          waiters.push(() => {
            clearTimeout(t)
            resolve()
          })
        }),
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Subscriber side: connects to the publisher's credit channel. */
export async function creditReporter(
  path: string,
  index: number,
): Promise<{ report(seq: number): void; close(): void }> {
  const s = createConnection(path)
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve)
    s.once('error', reject)
  })
  s.on('error', () => {})
  return {
    report(seq) {
      const b = Buffer.allocUnsafe(8)
      b.writeUInt32BE(index, 0)
      b.writeUInt32BE(seq, 4)
      s.write(b)
    },
    close: () => void s.destroy(),
  }
}
