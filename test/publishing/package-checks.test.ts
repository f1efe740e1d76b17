/**
 * The published artifacts pass publint and @arethetypeswrong/cli, and the release dry-run lists every
 * public package with its next version without publishing anything.
 */
import { execFileSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM helper shared with the release scripts
import { root, workspaces } from '../../scripts/workspaces.mjs'

const names: string[] = workspaces().map((w: { name: string }) => w.name)
const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 })

beforeAll(() => {
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'])
}, 600_000)

describe('package checks', () => {
  it('publint and attw report no errors for any public package', { timeout: 300_000 }, () => {
    const out = run(process.execPath, ['scripts/check-packages.mjs'])
    for (const name of names) {
      expect(out).toContain(`ok   publint  ${name}`)
      expect(out).toContain(`ok   attw     ${name}`)
    }
  })

  it('the release dry run lists every public package with its next version', { timeout: 300_000 }, () => {
    const out = run('npm', ['run', '--silent', 'release', '--', '--dry-run'])
    for (const name of names)
      expect(out).toMatch(
        new RegExp(`${name.replace('/', '\\/')}\\s+\\d+\\.\\d+\\.\\d+\\s+\\d+\\.\\d+\\.\\d+`),
      )
    expect(out).toContain('dry run: nothing was published')
  })
})
