import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type Bus, connect, RemoteError, ValidationError } from '@unipc/core'
import { waitFor } from '@unipc/testkit'
import { firstValueFrom, take, toArray } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, generatedDir, pkgRoot, runIdl, runTsc } from './generated-dir.js'

type StudentModule = typeof import('../golden/student.js')
type EverythingModule = typeof import('../golden/everything.js')

// The real CLI generates the code, the real tsc checks it, and the tests below run it.
const dir = generatedDir('generated')
let student: StudentModule
let everything: EverythingModule
let tsc: { code: number | null; output: string }

beforeAll(async () => {
  const gen = await runIdl([
    'gen',
    fixture('student.unipc'),
    fixture('everything.unipc'),
    fixture('libmedium-style.unipc'),
    '--out',
    dir.path,
  ])
  expect(gen.stderr).toBe('')
  expect(gen.code).toBe(0)
  const init = await runIdl(['init-server', fixture('student.unipc'), '--out', dir.path])
  expect(init.code).toBe(0)
  tsc = await runTsc(dir.path)
  student = (await import(join(dir.path, 'student.ts'))) as StudentModule
  everything = (await import(join(dir.path, 'everything.ts'))) as EverythingModule
}, 120_000)

afterAll(() => dir.remove())

describe('generated code', () => {
  it('passes tsc --strict (with the starter server)', () => {
    expect(tsc.output).toBe('')
    expect(tsc.code).toBe(0)
    expect(readdirSync(dir.path).sort()).toEqual(
      [
        'common.ts',
        'dts',
        'everything.ts',
        'libmedium-style.ts',
        'student-server.ts',
        'student.ts',
        'tsconfig.json',
      ].sort(),
    )
  })

  it('has no `any` in its public types', () => {
    // Declarations land under dts/<path from the repository root>.
    const dts = join(dir.path, 'dts', relative(join(pkgRoot, '../..'), dir.path))
    const files = readdirSync(dts).filter((f) => f.endsWith('.d.ts'))
    expect(files.sort()).toEqual([
      'common.d.ts',
      'everything.d.ts',
      'libmedium-style.d.ts',
      'student-server.d.ts',
      'student.d.ts',
    ])
    for (const f of files) expect(readFileSync(join(dts, f), 'utf8'), f).not.toMatch(/\bany\b/)
    // The runtime the generated code imports, too.
    const runtime = readFileSync(join(dir.path, 'dts/packages/idl/src/runtime/index.d.ts'), 'utf8')
    expect(runtime).not.toMatch(/\bany\b/)
  })

  it('carries the fingerprint computed by the generator', () => {
    expect(student.StudentSystem.fingerprint).toBe(student.StudentSystemFingerprint)
    expect(everything.Everything.fingerprint).toBe(everything.EverythingFingerprint)
  })
})

describe('StudentSystem over memory', () => {
  let serverBus: Bus
  let clientBus: Bus
  let server: InstanceType<StudentModule['StudentSystemServer']>
  const students = new Map<string, import('../golden/student.js').Student>()
  const alice = {
    id: '1',
    first_name: 'Alice',
    last_name: 'Liddell',
    age: 12,
    photo: new Uint8Array([1, 2, 3]),
  }

  beforeAll(async () => {
    const url = `memory://idl-student-${process.pid}`
    serverBus = await connect(url, { component: 'StudentSystem' })
    clientBus = await connect(url, { component: 'ui' })
    class Impl extends student.StudentSystemServer {
      override get_student(id: string) {
        const s = students.get(id)
        if (!s) throw new student.StudentNotFound()
        return s
      }
      override async update_student(info: import('../golden/student.js').Student) {
        students.set(info.id, info)
        await this.student_added(Date.now() / 1000, info)
      }
    }
    server = new Impl()
    await server.start(serverBus)
  })

  afterAll(async () => {
    await server?.stop()
    await clientBus?.close()
    await serverBus?.close()
  })

  it('calls methods and receives events like LibMedium clients do', async () => {
    const client = new student.StudentSystemClient(clientBus)
    const added = client.student_added()
    const next = firstValueFrom(added)
    await added.ready
    await client.update_student(alice)
    const event = await next
    expect(event.info).toEqual(alice)
    expect(typeof event.time).toBe('number')
    const got = await client.get_student('1')
    expect(got).toEqual(alice)
    expect(got.photo).toBeInstanceOf(Uint8Array)
  })

  it('StudentNotFound thrown in the server is caught as StudentNotFound in the client', async () => {
    const client = new student.StudentSystemClient(clientBus)
    const err = await client.get_student('nobody').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(student.StudentNotFound)
    expect((err as Error).name).toBe('StudentNotFound')
  })

  it('rejects a uint8 of 300 before sending, naming the field path', async () => {
    const client = new student.StudentSystemClient(clientBus)
    const err = await client.update_student({ ...alice, age: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).path).toBe('params.info.age')
  })

  it('rejects a uint8 of 300 on receipt, in the server and in the client', async () => {
    // A client that does not validate: the server must refuse the parameters itself.
    const lax = new student.StudentSystemClient(clientBus, { validate: false })
    const err = await lax.update_student({ ...alice, id: '2', age: 300 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteError)
    expect((err as RemoteError).code).toBe('UNIPC_VALIDATION')
    expect((err as Error).message).toContain('params.info.age')
    expect(students.has('2')).toBe(false)
    // A server that returns a bad value: the client refuses the result.
    students.set('3', { ...alice, id: '3', age: 300 })
    const client = new student.StudentSystemClient(clientBus)
    const bad = await client.get_student('3').catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ValidationError)
    expect((bad as ValidationError).path).toBe('result.age')
  })
})

describe('Everything over memory', () => {
  let serverBus: Bus
  let clientBus: Bus
  let server: InstanceType<EverythingModule['EverythingServer']>
  const resets: boolean[] = []

  beforeAll(async () => {
    const url = `memory://idl-everything-${process.pid}`
    serverBus = await connect(url, { component: 'Everything' })
    clientBus = await connect(url, { component: 'ui' })
    const { NotFound, Busy } = everything
    class Impl extends everything.EverythingServer {
      override get_tree(id: string) {
        if (id !== 'root') throw new NotFound({ id, tried: 2 })
        return { value: 1, children: [{ value: 2, children: [] }] }
      }
      override put(
        shape: import('../golden/everything.js').Shape,
        color: 'red' | 'green' | 'blue' | undefined,
      ) {
        return everything.createContainers({
          legacy: [1],
          by_id: new Map([[7, everything.createPrimitives({ bytes: new Uint8Array([9]) })]]),
          by_color: { red: ['x'] },
          matrix: [[1, 2]],
          list_of_maybe: [1, undefined],
          where: { x: 1, y: 2 },
          nickname: shape.kind,
          ...(color ? { color } : {}),
        })
      }
      override ping() {}
      override awkward(default_: string, options_: number, ctx_: boolean | undefined) {
        return { fields: [default_, String(options_), String(ctx_)] }
      }
      override old_ping() {
        return true
      }
      override *count(n: number) {
        if (n > 1000) throw new Busy()
        for (let i = 1; i <= n; i++) yield i
      }
      override reset(hard: boolean) {
        resets.push(hard)
      }
      override wake() {}
    }
    server = new Impl()
    await server.start(serverBus)
  })

  afterAll(async () => {
    await server?.stop()
    await clientBus?.close()
    await serverBus?.close()
  })

  it('calls methods with models, unions, maps, optionals and defaults', async () => {
    const client = new everything.EverythingClient(clientBus)
    expect(await client.get_tree('root')).toEqual({ value: 1, children: [{ value: 2, children: [] }] })
    const c = await client.put({ kind: 'circle', value: { center: { x: 0, y: 0 }, radius: 2 } }, 'blue')
    expect(c.nickname).toBe('circle')
    expect(c.color).toBe('blue')
    expect(c.tags).toEqual(['a', 'b'])
    expect(c.by_id.get(7)?.u8).toBe(255)
    expect(c.by_id.get(7)?.at).toEqual(new Date('2024-01-01T00:00:00Z'))
    await expect(client.ping()).resolves.toBeUndefined()
    expect(await client.awkward('d', 2)).toEqual({ fields: ['d', '2', 'undefined'] })
    await expect(client.old_ping()).resolves.toBe(true)
  })

  it('rejects a union value that matches no variant', async () => {
    const client = new everything.EverythingClient(clientBus)
    const bad = { kind: 'square', value: 1 } as unknown as import('../golden/everything.js').Shape
    await expect(client.put(bad)).rejects.toBeInstanceOf(ValidationError)
  })

  it('throws declared errors with their fields, also from an imported spec', async () => {
    const client = new everything.EverythingClient(clientBus)
    const err = await client.get_tree('nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(everything.NotFound)
    expect((err as InstanceType<typeof everything.NotFound>).id).toBe('nope')
    expect((err as InstanceType<typeof everything.NotFound>).tried).toBe(2)
  })

  it('streams results as an Observable', async () => {
    const client = new everything.EverythingClient(clientBus)
    expect(await firstValueFrom(client.count(5).pipe(toArray()))).toEqual([1, 2, 3, 4, 5])
    const items: number[] = []
    for await (const i of client.count(3)) items.push(i)
    expect(items).toEqual([1, 2, 3])
  })

  it('sends commands to the service queue, validated', async () => {
    const client = new everything.EverythingClient(clientBus)
    await client.reset(true)
    await client.wake()
    expect(resets).toEqual([true])
    await expect(client.reset('yes' as unknown as boolean)).rejects.toBeInstanceOf(ValidationError)
  })

  it('receives events as Observables', async () => {
    const client = new everything.EverythingClient(clientBus)
    const changes = client.changed()
    const two = firstValueFrom(changes.pipe(take(2), toArray()))
    await changes.ready
    const at = new Date('2025-05-05T00:00:00Z')
    await server.changed('a', at)
    await server.changed('b', at)
    expect(await two).toEqual([
      { id: 'a', at },
      { id: 'b', at },
    ])
  })

  it('reads, writes and watches settings, with defaults', async () => {
    const client = new everything.EverythingClient(clientBus)
    expect(await client.brightness.get()).toBe(128)
    const seen: number[] = []
    const sub = client.brightness.watch().subscribe((v) => seen.push(v))
    await waitFor(() => seen.length === 1)
    await client.brightness.set(200)
    await waitFor(() => seen.length === 2)
    sub.unsubscribe()
    expect(seen).toEqual([128, 200])
    expect(await server.brightness.get()).toBe(200)
    await expect(client.brightness.set(300)).rejects.toBeInstanceOf(ValidationError)
    expect(await client.mode.get()).toBe('red')
    expect(await client.label.get()).toBeUndefined()
  })

  it('publishes status from the server and watches it from the client', async () => {
    const client = new everything.EverythingClient(clientBus)
    expect(await client.temperature.get()).toBeUndefined()
    const seen: (number | undefined)[] = []
    const sub = client.temperature.watch().subscribe((v) => seen.push(v))
    await waitFor(() => seen.length === 1)
    await server.temperature.set(21.5)
    await waitFor(() => seen.length === 2)
    sub.unsubscribe()
    expect(seen).toEqual([undefined, 21.5])
    await server.state.set('green')
    expect(await client.state.get()).toBe('green')
    await expect(server.state.set('purple' as 'red')).rejects.toBeInstanceOf(ValidationError)
  })
})
