import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const script = join(root, 'scripts/conformance-report.mjs')
const fixture = fileURLToPath(new URL('./fixtures/report-with-missing-transport.json', import.meta.url))

/** Runs the report script on a saved vitest JSON report and returns its exit code and document. */
function report(): { status: number | null; markdown: string; stdout: string } {
  const dir = tempDir('unipc-report-')
  try {
    const out = join(dir.path, 'conformance.md')
    const run = spawnSync(process.execPath, [script, '--from', fixture, '--out', out], { encoding: 'utf8' })
    return { status: run.status, markdown: readFileSync(out, 'utf8'), stdout: run.stdout }
  } finally {
    dir.cleanup()
  }
}

describe('conformance report script', () => {
  it('writes a matrix with pass, fail and skip-with-reason cells', () => {
    const { markdown } = report()
    expect(markdown).toContain('| a works | ✅ |')
    expect(markdown).toContain('| c \\| pipe | ❌ [1] |')
    expect(markdown).toContain('| b works | ⏭️ [2] |')
    expect(markdown).toContain('2. **memory**: skipped: no peer')
  })

  it('lists a suite file that failed to load instead of stopping', () => {
    const { markdown, stdout } = report()
    expect(markdown).toMatch(
      /transport-x\/test\/conformance\.test\.ts \| suite failed to load: Cannot find package/,
    )
    expect(stdout).toContain('failed to load')
  })

  it('exits non-zero when a case failed, after writing the document', () => {
    expect(report().status).toBe(1)
  })
})
