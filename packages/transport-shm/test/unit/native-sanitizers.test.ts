import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@unipc/testkit'
import { afterAll, describe, expect, it } from 'vitest'

// The ring code (native/ring.h, exactly what the addon runs) built with AddressSanitizer and UBSan:
// corrupted lengths, positions and pad frames must be reported without any out-of-bounds access,
// and a two-thread stress run must keep order and content. Skipped only when the machine has no
// compiler or no sanitizer runtime (libasan/libubsan), with the reason in the test name.
const source = fileURLToPath(new URL('../../native/test/ring_test.cc', import.meta.url))
const dir = tempDir('unipc-shm-asan-')
afterAll(() => dir.cleanup())
const flags = [
  '-std=c++17',
  '-g',
  '-O1',
  '-fsanitize=address,undefined',
  '-fno-sanitize-recover=all',
  '-fno-omit-frame-pointer',
  '-pthread',
]

function sanitizerProblem(): string | undefined {
  const probe = join(dir.path, 'probe.cc')
  writeFileSync(probe, 'int main() { return 0; }\n')
  const r = spawnSync('g++', [...flags, probe, '-o', join(dir.path, 'probe')], { encoding: 'utf8' })
  if (r.error) return 'g++ is not installed'
  if (r.status !== 0)
    return `the sanitizer runtime is missing (install libasan and libubsan): ${r.stderr.slice(0, 200)}`
  return undefined
}

const problem = sanitizerProblem()

describe('native ring under AddressSanitizer and UBSan', () => {
  it.skipIf(problem !== undefined)(
    `corrupt frames are rejected with no out-of-bounds read, and a threaded stress run stays ordered${problem ? ` (skipped: ${problem})` : ''}`,
    () => {
      const bin = join(dir.path, 'ring_test')
      const build = spawnSync('g++', [...flags, source, '-o', bin], { encoding: 'utf8' })
      expect(build.stderr).toBe('')
      expect(build.status).toBe(0)
      const run = spawnSync(bin, [], {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
          UBSAN_OPTIONS: 'print_stacktrace=1',
        },
      })
      expect(run.stderr).toBe('')
      expect(run.stdout).toContain('ring tests passed')
      expect(run.status).toBe(0)
    },
    90_000,
  )
})
