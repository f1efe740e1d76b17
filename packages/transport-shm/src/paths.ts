/**
 * Where an shm bus keeps its files and how its segments are named. Everything lives in a 0700
 * directory (`<runtime dir>/shm`, or `?dir=` in the URL); segment names carry the uid, the bus
 * name, the creator's pid and a random part, so `unipc-shm gc` can tell which are stale.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, lstatSync, mkdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { runtimeDir } from '@unipc/core'
import { InvalidArgumentError } from '@unipc/core/spi'

/** Bus names become parts of file and segment names: a small safe alphabet only. */
const BUS_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** The current user's uid (0 where the platform has none). */
export const uid: number = (() => {
  try {
    return userInfo().uid
  } catch {
    return 0
  }
})()

/**
 * Checks a bus name from an `shm://<name>` URL.
 * @param name - the host part of the URL
 */
export function assertBusName(name: string): void {
  if (!BUS_NAME.test(name) || name === '.' || name === '..')
    throw new InvalidArgumentError(
      `shm bus name '${name}' must be 1-64 characters of letters, digits, '_', '.' and '-' (e.g. shm://app)`,
    )
}

/** The files of one bus in one directory. */
export interface BusPaths {
  readonly bus: string
  readonly dir: string
  /** The broker's rendezvous socket. */
  readonly socket: string
  /** The broker's lock file (flock'd while it runs). */
  readonly lock: string
  /** Where an auto-started broker writes its log. */
  readonly log: string
}

/**
 * The paths of a bus; creates the directory (0700) when missing and refuses one that is not ours.
 * @param bus - a validated bus name
 * @param dir - the directory, default `<runtime dir>/shm`
 */
export function busPaths(bus: string, dir = join(runtimeDir(), 'shm')): BusPaths {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = lstatSync(dir)
  if (!st.isDirectory() || st.uid !== uid)
    throw new InvalidArgumentError(`shm directory ${dir} is not a directory owned by uid ${uid}`)
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
  return {
    bus,
    dir,
    socket: join(dir, `${bus}.sock`),
    lock: join(dir, `${bus}.lock`),
    log: join(dir, `${bus}.log`),
  }
}

/** The prefix of every segment this user makes: `/unipc-<uid>-`. */
export const segmentPrefix = `/unipc-${uid}-`

/**
 * A fresh segment name: `/unipc-<uid>-<bus>-<kind><pid>-<random>`.
 * @param bus - the bus name
 * @param kind - `l` for a link segment, `s` for a slab, `b` for a blob
 */
export function segmentName(bus: string, kind: 'l' | 's' | 'b'): string {
  return `${segmentPrefix}${bus}-${kind}${process.pid}-${randomBytes(6).toString('hex')}`
}

/** The bus and creator pid of a segment name, or undefined when the name is not one of ours. */
export function parseSegmentName(name: string): { bus: string; pid: number } | undefined {
  const m = /^\/unipc-\d+-([A-Za-z0-9_.-]+)-[lsb](\d+)-[0-9a-f]+$/.exec(name)
  return m ? { bus: m[1] as string, pid: Number(m[2]) } : undefined
}

/**
 * A fresh doorbell FIFO path for this process in `dir`.
 * @param dir - the bus directory
 * @param bus - the bus name
 */
export function bellPath(dir: string, bus: string): string {
  return join(dir, `${bus}.${process.pid}-${randomBytes(4).toString('hex')}.bell`)
}

/** True when a process with this pid exists (EPERM counts: it exists, it is just not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
