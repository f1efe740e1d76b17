/**
 * Precompiles the code of the role processes (role-main and every adapter module) to JavaScript
 * once per benchmark run, so that a role process of a system that needs no workspace TypeScript
 * (the baselines and peers) starts on plain `node`, without the tsx loader: starting processes is
 * most of the time between runs. Systems that import `@unipc/*` still run with tsx and the `source`
 * condition, so they measure the workspace's current sources. Packages stay external (resolved from
 * the repo's node_modules at run time), so native addons load from where they are installed.
 * When the packages are built (see code-mode.ts), unipc roles start on plain node as well.
 * @module
 */
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { CodeMode } from './code-mode.js'

/** How to start the role processes of one adapter module. */
export interface CompiledModule {
  /** The module to import in the role process. */
  readonly module: string
  /** The role-main entry to run. */
  readonly main: string
  /** Whether the process needs tsx and the `source` condition (it imports workspace packages). */
  readonly needsTsx: boolean
}

const benchRoot = fileURLToPath(new URL('../../', import.meta.url))
const roleMainTs = fileURLToPath(new URL('./role-main.ts', import.meta.url))

/**
 * Compiles role-main and `modules` (file URLs of adapter modules). Returns a map from each module
 * URL to how to run it, or undefined when compiling failed (the caller then runs the sources with tsx).
 */
export async function compileRoles(
  modules: readonly string[],
  mode: CodeMode,
): Promise<Map<string, CompiledModule> | undefined> {
  // Inside the package, so that bare imports resolve from the repo's node_modules.
  const outdir = join(benchRoot, 'node_modules', '.cache', 'unipc-bench', String(process.pid))
  try {
    const { build } = await import('esbuild')
    const entries = [roleMainTs, ...modules.map((m) => fileURLToPath(m))]
    await build({
      entryPoints: entries,
      outdir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      entryNames: '[name]',
      logLevel: 'silent',
    })
    const main = join(outdir, 'role-main.mjs')
    const result = new Map<string, CompiledModule>()
    for (const m of modules) {
      const file = join(outdir, basename(fileURLToPath(m)).replace(/\.ts$/, '.mjs'))
      const code = readFileSync(file, 'utf8')
      // With built packages, unipc roles run on plain node too: `@unipc/*` resolves to dist/.
      const needsTsx = mode === 'source' && /["']@unipc\//.test(code)
      result.set(m, { module: pathToFileURL(file).href, main, needsTsx })
    }
    return result
  } catch {
    return undefined
  }
}

/** Where compiled code goes, to remove it at the end of the run. */
export const compiledDir = (): string =>
  join(benchRoot, 'node_modules', '.cache', 'unipc-bench', String(process.pid))
