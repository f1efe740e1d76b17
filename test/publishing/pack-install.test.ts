/**
 * Every package as users get it from npm: build, `npm pack` each public package, install the tarballs
 * into an empty project outside the monorepo (registry dependencies only), then run small programs
 * through the public entry points, each type-checked with `tsc --strict` first. One install is shared.
 */
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRedis } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM helper shared with the release scripts
import { root, workspaces } from '../../scripts/workspaces.mjs'

const packages: { name: string; dir: string }[] = workspaces()
const present = new Set(packages.map((p) => p.name))
let project = ''
/** A private XDG_RUNTIME_DIR: hubs and brokers auto-started by these programs are ours to stop. */
let runtime = ''

function run(cmd: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, ...env },
      timeout: 240_000,
    })
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err })
  }
}

beforeAll(() => {
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], root)
  project = mkdtempSync(join(tmpdir(), 'unipc-pack-'))
  runtime = mkdtempSync(join(tmpdir(), 'unipc-pack-xdg-'))
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
  // vitest: @unipc/conformance takes the test API from its caller (an optional peer dependency).
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', ...files, 'typescript@5.9.3', '@types/node@20', 'vitest@4.1.12'],
    project,
  )
}, 600_000)

afterAll(() => {
  // The auto-started socket hub leaves its pid beside its socket; the shm broker exits when idle,
  // but is stopped here too (it names our private runtime dir in its arguments).
  const pidFile = join(runtime, 'unipc', 'hub.sock.pid')
  if (runtime && existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM')
    } catch {
      // already gone
    }
  }
  if (runtime) {
    try {
      execFileSync('pkill', ['-f', runtime])
    } catch {
      // nothing left running
    }
  }
  if (project) rmSync(project, { recursive: true, force: true })
  if (runtime) rmSync(runtime, { recursive: true, force: true })
})

/** Writes `main.ts`, type-checks it with tsc --strict against the installed types, then runs it. */
function runProgram(name: string, source: string, env: Record<string, string | undefined> = {}): string {
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
      include: ['*.ts'],
    }),
  )
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  run(join(project, 'node_modules/.bin/tsc'), ['-p', dir], dir)
  return run(process.execPath, [join(dir, 'out/main.js')], dir, { XDG_RUNTIME_DIR: runtime, ...env })
}

/** The same five-facility round trip, on whatever URL the program is given. */
const roundTrip = `import { connect } from '@unipc/core'
// TEST_URL unset: no URL at all, so UNIPC_URL or the embedded default decides.
const url: string | undefined = process.env.TEST_URL || undefined
const a = await connect(url, { component: 'a' })
const b = await connect(url, { component: 'b' })
await a.requests.serve('add', (d: { x: number; y: number }) => d.x + d.y)
await a.commands.handle((cmd: { op: string }) => cmd.op.toUpperCase())
const sum = await b.requests.call<number>('add', { x: 2, y: 3 })
const cmd = await b.commands.send<string>('a', { op: 'snap' })
await b.settings.set('a', 'fps', 30)
const fps = await a.settings.get<number>('a', 'fps')
const status = await b.status.get('a')
const none = await b.requests.call('none', {}, { timeout: 2000 }).catch((e: Error) => e.name)
console.log('result', sum, cmd, fps, status.online, none)
await a.close(); await b.close()
`

describe('published packages', () => {
  it('core with the memory transport works from its tarball', () => {
    expect(runProgram('core-memory', roundTrip, { TEST_URL: 'memory://x' })).toContain(
      'result 5 SNAP 30 true NoHandlerError',
    )
  })

  it.skipIf(!present.has('@unipc/transport-socket'))(
    'core with the socket transport auto-starts its hub from the tarballs',
    { timeout: 60_000 },
    () => {
      // No URL: the embedded default, a hub auto-started in the (private) runtime dir.
      const out = runProgram('core-socket', roundTrip, { UNIPC_URL: undefined, TEST_URL: undefined })
      expect(out).toContain('result 5 SNAP 30 true NoHandlerError')
      expect(existsSync(join(runtime, 'unipc', 'hub.sock'))).toBe(true)
    },
  )

  it.skipIf(!present.has('@unipc/transport-redis'))(
    'core with the Redis transport works against a redis-server from the tarballs',
    { timeout: 60_000 },
    async () => {
      const redis = await startRedis()
      try {
        expect(runProgram('core-redis', roundTrip, { TEST_URL: redis.url })).toContain(
          'result 5 SNAP 30 true NoHandlerError',
        )
      } finally {
        await redis.stop()
      }
    },
  )

  it.skipIf(!present.has('@unipc/transport-shm'))(
    'core with the shm transport works from the tarballs (the addon builds or loads)',
    { timeout: 90_000 },
    () => {
      // prepack copied the addon into prebuilds/linux-x64: node-gyp-build loads it before building.
      expect(existsSync(join(project, 'node_modules/@unipc/transport-shm/prebuilds/linux-x64'))).toBe(true)
      expect(runProgram('core-shm', roundTrip, { TEST_URL: 'shm://packtest' })).toContain(
        'result 5 SNAP 30 true NoHandlerError',
      )
    },
  )

  it.skipIf(!present.has('@unipc/rpc-streams'))('rpc-streams serves and calls a typed service', () => {
    const out = runProgram(
      'rpc-streams',
      `import { connect } from '@unipc/core'
import { createClient, defineService, serve, t } from '@unipc/rpc-streams'
const Greeter = defineService({
  name: 'Greeter',
  version: '1.0.0',
  methods: { greet: { params: t.object({ name: t.string() }), result: t.string() } },
})
const bus = await connect('memory://rpc', { component: 'greeter' })
await serve(bus, Greeter, { greet: ({ name }) => 'hello ' + name })
const client = createClient(bus, Greeter)
const text: string = await client.greet({ name: 'ada' })
console.log(text)
await bus.close()
`,
    )
    expect(out.trim()).toBe('hello ada')
  })

  it.skipIf(!present.has('@unipc/idl'))(
    'the idl CLI generates the StudentSystem spec, and the result compiles and runs',
    { timeout: 60_000 },
    () => {
      const dir = join(project, 'idl')
      mkdirSync(dir, { recursive: true })
      copyFileSync(join(root, 'packages/idl/test/fixtures/student.unipc'), join(dir, 'student.unipc'))
      run(join(project, 'node_modules/.bin/unipc-idl'), ['gen', 'student.unipc', '--out', '.'], dir)
      const out = runProgram(
        'idl',
        `import { connect } from '@unipc/core'
import { StudentNotFound, StudentSystemClient, StudentSystemServer, type Student } from './student.js'
class Impl extends StudentSystemServer {
  readonly students = new Map<string, Student>()
  override get_student(id: string): Student {
    const s = this.students.get(id)
    if (!s) throw new StudentNotFound()
    return s
  }
  override async update_student(info: Student): Promise<void> {
    this.students.set(info.id, info)
  }
}
const serverBus = await connect('memory://idl', { component: 'StudentSystem' })
await new Impl().start(serverBus)
const clientBus = await connect('memory://idl', { component: 'app' })
const client = new StudentSystemClient(clientBus)
await client.update_student({ id: '1', first_name: 'Ada', last_name: 'L', age: 36, photo: new Uint8Array() })
const ada = await client.get_student('1')
const missing = await client.get_student('2').catch((e: unknown) => e)
console.log(ada.first_name, missing instanceof StudentNotFound)
await clientBus.close(); await serverBus.close()
`,
      )
      expect(out.trim()).toBe('Ada true')
    },
  )

  it.skipIf(!present.has('@unipc/conformance'))(
    'the conformance package imports from its tarball',
    // Type-checks a project like its siblings: 20 s was too short on a loaded machine.
    { timeout: 60_000 },
    () => {
      const out = runProgram(
        'conformance',
        `import { runConformance } from '@unipc/conformance'
console.log(typeof runConformance)
`,
      )
      expect(out.trim()).toBe('function')
    },
  )
})
