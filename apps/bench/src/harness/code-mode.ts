/**
 * Which unipc code the role processes run: the packages' built `dist/` (what users install from
 * npm, run by plain `node`) or their TypeScript sources through tsx. The benchmark measures `dist`
 * whenever it is built and up to date (`npm run bench` builds first), because tsx's per-function
 * wrappers and source maps cost unipc ~1.5–2x in CPU per message: measuring them would report the
 * loader, not the library. Sources are the fallback when a package is unbuilt or older than its
 * sources (so a bench run straight after an edit never measures stale code), or when
 * `UNIPC_BENCH_CODE=source` asks for them.
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** How unipc packages are loaded in role processes. */
export type CodeMode = 'dist' | 'source'

const packagesDir = fileURLToPath(new URL('../../../../packages/', import.meta.url))

/** Newest modification time (ms) of the files under `dir` whose names end with `ext`. */
function newest(dir: string, ext: string): number {
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) max = Math.max(max, newest(path, ext))
    else if (entry.name.endsWith(ext)) max = Math.max(max, statSync(path).mtimeMs)
  }
  return max
}

function hasBuild(packageDir: string): boolean {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>
  }
  return typeof manifest.scripts?.build === 'string'
}

/**
 * Why the built code cannot be measured (a package without `dist/`, or with sources newer than
 * it), or undefined when every workspace package's build is current.
 */
export function staleBuild(): string | undefined {
  for (const name of readdirSync(packagesDir)) {
    const src = join(packagesDir, name, 'src')
    // Packages without a build (the private testkit) are only used by the harness, never by roles.
    if (!existsSync(join(src, 'index.ts')) || !hasBuild(join(packagesDir, name))) continue
    const built = join(packagesDir, name, 'dist', 'index.js')
    if (!existsSync(built)) return `packages/${name} is not built`
    if (newest(src, '.ts') > newest(join(packagesDir, name, 'dist'), '.js'))
      return `packages/${name}/src is newer than its dist/`
  }
  return undefined
}

/** The code mode of this run, and why when it fell back to sources. */
export function codeMode(): { mode: CodeMode; reason?: string } {
  if (process.env.UNIPC_BENCH_CODE === 'source') return { mode: 'source', reason: 'UNIPC_BENCH_CODE=source' }
  const stale = staleBuild()
  return stale ? { mode: 'source', reason: stale } : { mode: 'dist' }
}
