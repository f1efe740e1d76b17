/**
 * Test helper: runs the real `unipc-idl` CLI in a child process to generate code into a fresh
 * directory under test/tmp (inside the workspace, so the generated imports resolve), and runs the
 * real TypeScript compiler over it.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTs } from '@unipc/testkit'

const require = createRequire(import.meta.url)
const pkgDir = fileURLToPath(new URL('../../', import.meta.url))
/** The package directory (packages/idl). */
export const pkgRoot = pkgDir

/** Absolute path of a fixture spec. */
export const fixture = (name: string): string => join(pkgDir, 'test/fixtures', name)

/** A directory for generated code; `remove()` deletes it. */
export function generatedDir(tag: string): { path: string; remove: () => void } {
  const path = join(pkgDir, 'test/tmp', `${tag}-${process.pid}-${Date.now().toString(36)}`)
  mkdirSync(path, { recursive: true })
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** Runs `unipc-idl <args>` (src/cli.ts) in a child process; resolves with its exit code and output. */
export async function runIdl(
  args: string[],
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawnTs(join(pkgDir, 'src/cli.ts'), args, { cwd: pkgDir })
  const code = await child.exited
  return { code, stdout: child.stdout(), stderr: child.stderr() }
}

/**
 * Runs the real `tsc` in strict mode over every .ts file in `dir`, emitting declarations only into
 * `dir/dts` (to inspect the public types). Resolves with the exit code and output.
 */
export async function runTsc(dir: string): Promise<{ code: number | null; output: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'ESNext.Disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noImplicitOverride: true,
        declaration: true,
        emitDeclarationOnly: true,
        outDir: 'dts',
        // The program reaches into the workspace's sources, so the root is the repository.
        rootDir: join(pkgDir, '../..'),
        skipLibCheck: true,
        types: ['node'],
        customConditions: ['source'],
        // Always the workspace sources, even where a (possibly stale) dist/ exists: the "types"
        // export condition would otherwise pick dist/*.d.ts.
        paths: {
          '@unipc/core': [join(pkgDir, '../core/src/index.ts')],
          '@unipc/rpc-streams': [join(pkgDir, '../rpc-streams/src/index.ts')],
          '@unipc/idl/runtime': [join(pkgDir, 'src/runtime/index.ts')],
        },
      },
      include: ['*.ts'],
    }),
  )
  const tsc = require.resolve('typescript/bin/tsc')
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir })
    let output = ''
    p.stdout.on('data', (d) => (output += d))
    p.stderr.on('data', (d) => (output += d))
    p.on('error', reject)
    p.on('close', (code) => resolve({ code, output }))
  })
}
