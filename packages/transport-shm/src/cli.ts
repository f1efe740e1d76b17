/**
 * `unipc-shm`: lists and cleans the shm transport's segments.
 * - `unipc-shm ls [--json]`: this user's unipc segments, their creator pid and whether it runs;
 * - `unipc-shm gc [--dir <bus dir>]`: removes segments (and doorbells) of dead processes.
 * @module
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runtimeDir } from '@unipc/core'
import { listSegments, sweepStale } from './gc.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean' }, dir: { type: 'string' } },
})
const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

switch (positionals[0]) {
  case 'ls': {
    const segments = listSegments()
    if (values.json) out(JSON.stringify(segments))
    else if (segments.length === 0) out('no unipc shm segments')
    else
      for (const s of segments)
        out(
          `${s.name}\t${s.kind}\t${s.size} bytes\tmode ${s.mode.toString(8)}\tpid ${s.creatorPid} ${s.creatorAlive ? 'running' : 'dead'}`,
        )
    break
  }
  case 'gc': {
    const r = sweepStale(values.dir ?? join(runtimeDir(), 'shm'))
    for (const s of r.segments) out(`removed ${s}`)
    for (const b of r.bells) out(`removed ${b}`)
    out(`${r.segments.length} segment(s), ${r.bells.length} doorbell(s) removed`)
    break
  }
  default:
    out('usage: unipc-shm ls [--json] | unipc-shm gc [--dir <bus dir>]')
    process.exitCode = positionals[0] === undefined || positionals[0] === 'help' ? 0 : 2
}
