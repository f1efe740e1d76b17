#!/usr/bin/env node
// Lints every public package as a published artifact: publint (package.json, exports, files) and
// @arethetypeswrong/cli (types resolve for ESM consumers under node16/bundler). Needs a build first.
// Exits non-zero when any package has an error.
import { spawnSync } from 'node:child_process'
import { root, workspaces } from './workspaces.mjs'

let failed = 0
for (const { name, dir } of workspaces()) {
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', dir]],
    ['attw', ['attw', '--pack', dir, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    const r = spawnSync('npx', args, { cwd: root, encoding: 'utf8' })
    const ok = r.status === 0
    if (!ok) failed++
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${name}`)
    if (!ok)
      console.log(
        (r.stdout + r.stderr)
          .trim()
          .split('\n')
          .map((l) => `       ${l}`)
          .join('\n'),
      )
  }
}
process.exit(failed ? 1 : 0)
