/**
 * Every package as users get it from npm: build, `npm pack` each public package, install the tarballs
 * into an empty project outside the monorepo (registry dependencies only), then run small programs
 * through the public entry points, type-checked with tsc. Slow (npm install), so one install is shared.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM helper shared with the release scripts
import { root, workspaces } from '../../scripts/workspaces.mjs'

const packages: { name: string; dir: string }[] = workspaces()
const present = new Set(packages.map((p) => p.name))
let project = ''

const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: 'pipe',
    env: { ...process.env, ...env },
    timeout: 240_000,
  })

beforeAll(() => {
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], root)
  project = mkdtempSync(join(tmpdir(), 'unipc-pack-'))
  const tarballs = join(project, 'tarballs')
  mkdirSync(tarballs)
  const files = packages.map(({ dir }) => {
    const out = run('npm', ['pack', '--silent', '--pack-destination', tarballs], dir).trim().split('\n')
    return join(tarballs, out[out.length - 1] as string)
  })
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  )
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      ...files,
      'typescript@5.9.3',
      '@types/node@20',
    ],
    project,
  )
}, 600_000)

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true })
})

/** Writes `main.ts`, type-checks it with tsc --strict against the installed types, then runs it. */
function runProgram(name: string, source: string, env: Record<string, string> = {}): string {
  const dir = join(project, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'main.ts'), source)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        lib: ['ES2023', 'ESNext.Disposable'],
        types: ['node'],
        outDir: 'out',
        skipLibCheck: false,
      },
      files: ['main.ts'],
    }),
  )
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  run(join(project, 'node_modules/.bin/tsc'), ['-p', dir], dir)
  return run(process.execPath, [join(dir, 'out/main.js')], dir, env)
}

describe('published packages', () => {
  it('core with the memory transport works from its tarball', () => {
    const out = runProgram(
      'core-memory',
      `import { connect, TimeoutError } from '@unipc/core'
const a = await connect('memory://x', { component: 'a' })
const b = await connect('memory://x', { component: 'b' })
await a.requests.serve('add', (d: { x: number; y: number }) => d.x + d.y)
const sum: number = await b.requests.call<number>('add', { x: 2, y: 3 })
const err = await b.requests.call('none', {}, { timeout: 50 }).catch((e: unknown) => e)
console.log('sum', sum, err instanceof TimeoutError ? 'timeout' : (err as Error).name)
await a.close(); await b.close()
`,
    )
    expect(out).toContain('sum 5 NoHandlerError')
  })

  it.skipIf(!present.has('@unipc/conformance'))('the conformance package imports from its tarball', () => {
    const out = runProgram(
      'conformance',
      `import { runConformance } from '@unipc/conformance'
console.log(typeof runConformance)
`,
    )
    expect(out.trim()).toBe('function')
  })
})
