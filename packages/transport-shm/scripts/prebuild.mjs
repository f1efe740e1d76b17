#!/usr/bin/env node
// prepack: ship the addon built for this platform as a prebuilt binary (prebuilds/<platform>-<arch>/),
// which node-gyp-build loads before trying a source build. Unlike `prebuildify`, this never cleans
// build/: tests running beside `npm pack` keep loading build/Release while the package is packed.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const built = join(root, 'build', 'Release', 'unipc_shm.node')
if (!existsSync(built)) execFileSync('npx', ['node-gyp', 'rebuild'], { cwd: root, stdio: 'inherit' })
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`)
mkdirSync(dir, { recursive: true })
// The name carries no ABI tag: the addon uses N-API, so one binary serves every Node version.
const target = join(dir, '@unipc+transport-shm.node')
copyFileSync(built, target)
try {
  execFileSync('strip', ['--strip-unneeded', target])
} catch {
  // No strip on this machine: the binary is only larger.
}
console.log(`prebuilt ${target}`)
