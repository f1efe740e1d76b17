#!/usr/bin/env node
// The `unipc` command. Installed from npm it runs the built dist/; in the unipc repository (no
// build) it loads the TypeScript sources through tsx, with workspace packages resolved to their
// sources (the "source" export condition), in this same process.
import { existsSync } from 'node:fs'
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'

const built = new URL('../dist/main.js', import.meta.url)
if (existsSync(fileURLToPath(built))) {
  await import(built.href)
} else {
  register('./source-condition.js', import.meta.url)
  const { register: registerTsx } = await import('tsx/esm/api')
  registerTsx()
  await import(new URL('../src/main.ts', import.meta.url).href)
}
