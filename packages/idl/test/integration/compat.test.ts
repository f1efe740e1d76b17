import { join } from 'node:path'
import { type Bus, connect, SchemaMismatchError } from '@unipc/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli.js'
import { fixture, generatedDir } from './generated-dir.js'

type StudentModule = typeof import('../golden/student.js')
type Student = import('../golden/student.js').Student

// `unipc-idl diff` and the runtime schema check must agree: a change the diff calls compatible lets
// old clients call the new service; one it calls breaking makes the client refuse with
// SchemaMismatchError naming the method and the field.
const dir = generatedDir('compat')
const quiet = { out: () => {}, err: (t: string) => process.stderr.write(`${t}\n`) }
const specs = {
  old: fixture('student.unipc'),
  compatible: fixture('diff/student-compatible.unipc'),
  breaking: fixture('diff/student-breaking.unipc'),
}
let mods: Record<'old' | 'compatible' | 'breaking', StudentModule>

beforeAll(async () => {
  expect(runCli(['gen', specs.old, specs.compatible, specs.breaking, '--out', dir.path], quiet)).toBe(0)
  mods = {
    old: (await import(join(dir.path, 'student.ts'))) as StudentModule,
    compatible: (await import(join(dir.path, 'student-compatible.ts'))) as StudentModule,
    breaking: (await import(join(dir.path, 'student-breaking.ts'))) as StudentModule,
  }
})
afterAll(() => dir.remove())

const ada: Student = { id: '1', first_name: 'Ada', last_name: 'L', age: 36, photo: new Uint8Array() }

async function serveVersion(
  name: 'compatible' | 'breaking',
  url: string,
): Promise<{ stop(): Promise<void> }> {
  const bus = await connect(url, { component: 'StudentSystem' })
  const impl = {
    get_student: () => ada,
    update_student: () => {},
    list_students: () => [ada],
  }
  const { serve } = await import('@unipc/rpc-streams')
  const server = await serve(bus, mods[name].StudentSystem, impl as never)
  return {
    stop: async () => {
      await server.close()
      await bus.close()
    },
  }
}

describe('diff verdicts match the runtime schema check', () => {
  let client: Bus
  const stops: { stop(): Promise<void> }[] = []
  afterAll(async () => {
    for (const s of stops) await s.stop()
    await client?.close()
  })

  it('compatible: an old client calls the new service', async () => {
    const diff = { out: '', code: 0 }
    diff.code = runCli(['diff', specs.old, specs.compatible], { out: (t) => (diff.out += t), err: () => {} })
    expect(diff.code).toBe(0)
    const url = `memory://idl-compat-ok-${process.pid}`
    stops.push(await serveVersion('compatible', url))
    client = await connect(url, { component: 'ui' })
    const old = new mods.old.StudentSystemClient(client)
    expect(await old.get_student('1')).toMatchObject({ id: '1', first_name: 'Ada' })
  })

  it('breaking: an old client gets SchemaMismatchError naming the method and the field', async () => {
    expect(runCli(['diff', specs.old, specs.breaking], { out: () => {}, err: () => {} })).toBe(1)
    const url = `memory://idl-compat-bad-${process.pid}`
    stops.push(await serveVersion('breaking', url))
    const bus = await connect(url, { component: 'ui2' })
    try {
      const old = new mods.old.StudentSystemClient(bus)
      const err = await old.get_student('1').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SchemaMismatchError)
      expect((err as SchemaMismatchError).message).toContain('get_student')
      expect((err as SchemaMismatchError).message).toContain('params.id')
    } finally {
      await bus.close()
    }
  })
})
