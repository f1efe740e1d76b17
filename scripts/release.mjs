#!/usr/bin/env node
// npm run release            -> changeset version (bumps + CHANGELOG.md per package), build, changeset publish
// npm run release -- --dry-run -> lists every public package with its next version (from pending changesets)
//                                 and runs `npm publish --dry-run` for each, publishing nothing.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root, workspaces } from './workspaces.mjs'

const dryRun = process.argv.includes('--dry-run')
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })

if (!dryRun) {
  run('npx', ['changeset', 'version'])
  run('npx', ['turbo', 'run', 'build'])
  run('npx', ['changeset', 'publish'])
  process.exit(0)
}

const tmp = mkdtempSync(join(tmpdir(), 'unipc-release-'))
const statusFile = join(tmp, 'status.json')
const next = new Map()
try {
  execFileSync('npx', ['changeset', 'status', `--output=${statusFile}`], { cwd: root, stdio: 'pipe' })
  const status = JSON.parse(readFileSync(statusFile, 'utf8'))
  for (const r of status.releases ?? []) next.set(r.name, { version: r.newVersion, type: r.type })
} catch {
  // No pending changesets: every package keeps its version.
}
rmSync(tmp, { recursive: true, force: true })

console.log('package                      current  next     bump')
for (const { name, dir, pkg } of workspaces()) {
  const n = next.get(name)
  console.log(
    `${name.padEnd(28)} ${pkg.version.padEnd(8)} ${(n?.version ?? pkg.version).padEnd(8)} ${n?.type ?? 'none'}`,
  )
  execFileSync('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: dir, stdio: 'pipe' })
}
console.log('dry run: nothing was published')
