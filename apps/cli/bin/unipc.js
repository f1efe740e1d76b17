#!/usr/bin/env node
// The `unipc` command. Installed from npm it runs the built dist/; in the unipc repository (no
// build) it re-runs itself through tsx with the "source" condition so workspace sources are used.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const built = new URL('../dist/main.js', import.meta.url)
if (existsSync(fileURLToPath(built))) {
  await import(built.href)
} else {
  const require = createRequire(import.meta.url)
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', require.resolve('tsx'), main, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  )
  // A terminal's Ctrl-C reaches the child too (same process group), so SIGINT is not forwarded;
  // SIGTERM and SIGHUP are usually sent to this process alone, so they are.
  process.on('SIGINT', () => {})
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)))
}
