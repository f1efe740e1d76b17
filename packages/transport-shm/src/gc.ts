/**
 * Finding and removing segments: `unipc-shm ls` lists this user's unipc segments with their
 * creator and whether it still runs; `gc` (also run when a bus opens) removes those whose creator
 * died, and the doorbell FIFOs such processes left behind.
 * @module
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { parseSegmentName, pidAlive, segmentPrefix } from './paths.js'

/** Where Linux shows POSIX shared memory. */
export const SHM_DIR = '/dev/shm'
/** A blob of a dead creator younger than this may still be on its way to its reader. */
const BLOB_GRACE_MS = 10_000

/** One unipc segment of this user. */
export interface SegmentInfo {
  /** The POSIX name, `/unipc-…`. */
  readonly name: string
  /** The bus name it belongs to. */
  readonly bus: string
  /** `link` (a bus's rings), `slab` (a link direction's large payloads) or `blob` (one large payload). */
  readonly kind: 'link' | 'slab' | 'blob'
  readonly creatorPid: number
  readonly creatorAlive: boolean
  readonly size: number
  /** Permission bits, e.g. 0o600. */
  readonly mode: number
  readonly ageMs: number
}

/** Lists this user's unipc segments. */
export function listSegments(): SegmentInfo[] {
  let names: string[]
  try {
    names = readdirSync(SHM_DIR)
  } catch {
    return []
  }
  const out: SegmentInfo[] = []
  for (const file of names) {
    const name = `/${file}`
    if (!name.startsWith(segmentPrefix)) continue
    const parsed = parseSegmentName(name)
    if (parsed === undefined) continue
    const pid = parsed.pid
    try {
      const st = statSync(join(SHM_DIR, file))
      out.push({
        name,
        bus: parsed.bus,
        kind: /-b\d+-[0-9a-f]+$/.test(name) ? 'blob' : /-s\d+-[0-9a-f]+$/.test(name) ? 'slab' : 'link',
        creatorPid: pid,
        creatorAlive: pidAlive(pid),
        size: st.size,
        mode: st.mode & 0o777,
        ageMs: Date.now() - st.ctimeMs,
      })
    } catch {
      // removed meanwhile
    }
  }
  return out
}

/** What a sweep removed. */
export interface SweepResult {
  readonly segments: string[]
  readonly bells: string[]
}

/**
 * Removes segments whose creator died (blobs only after a grace period: their reader may still be
 * about to take them) and, when `dir` is given, doorbell FIFOs of dead processes in it.
 * @param dir - a bus directory to clean as well
 * @param bus - only segments of this bus (what a bus does when it opens); default all
 */
export function sweepStale(dir?: string, bus?: string): SweepResult {
  const segments: string[] = []
  for (const s of listSegments()) {
    if (
      (bus !== undefined && s.bus !== bus) ||
      s.creatorAlive ||
      (s.kind === 'blob' && s.ageMs < BLOB_GRACE_MS)
    )
      continue
    try {
      unlinkSync(join(SHM_DIR, s.name.slice(1)))
      segments.push(s.name)
    } catch {
      // someone else swept it
    }
  }
  const bells: string[] = []
  if (dir) {
    let files: string[] = []
    try {
      files = readdirSync(dir)
    } catch {
      // no directory yet
    }
    for (const f of files) {
      const m = /\.(\d+)-[0-9a-f]+\.(bell|sock)$/.exec(f)
      if (!m || pidAlive(Number(m[1])) || (bus !== undefined && !f.startsWith(`${bus}.`))) continue
      try {
        unlinkSync(join(dir, f))
        bells.push(join(dir, f))
      } catch {
        // gone already
      }
    }
  }
  return { segments, bells }
}
