import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@unipc/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const f = (name: string): string => join(fixtures, name)

function run(...argv: string[]): { code: number; out: string; err: string } {
  let out = ''
  let err = ''
  const code = runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) })
  return { code, out, err }
}

const dirs: { cleanup: () => void }[] = []
const temp = (): string => {
  const d = tempDir('unipc-idl-cli-')
  dirs.push(d)
  return d.path
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup()
})

describe('unipc-idl check', () => {
  it('accepts LibMedium’s StudentSystem spec unchanged', () => {
    expect(run('check', f('student.unipc'))).toEqual({ code: 0, out: '', err: '' })
  })

  it('prints every error of a broken spec with location, caret and hint, and exits 1', () => {
    const r = run('check', f('broken/unknown-types.unipc'))
    expect(r.code).toBe(1)
    expect(r.err).toContain("unknown-types.unipc:5:7: error[E021]: unknown type 'strng'")
    expect(r.err).toContain("did you mean 'string'?")
    expect(r.err).toContain('5 errors')
  })

  it('prints diagnostics as JSON with --format json', () => {
    const r = run('check', f('broken/defaults.unipc'), '--format', 'json')
    expect(r.code).toBe(1)
    const json = JSON.parse(r.out) as { diagnostics: { line: number; column: number; code: string }[] }
    expect(json.diagnostics[0]).toMatchObject({ line: 6, column: 16, code: 'E024' })
    expect(json.diagnostics.length).toBe(12)
  })

  it('accepts LibMedium’s .lmspc file name and generates student.ts from it', () => {
    const dir = temp()
    writeFileSync(join(dir, 'student.lmspc'), readFileSync(f('student.unipc')))
    expect(run('check', join(dir, 'student.lmspc')).code).toBe(0)
    expect(run('gen', join(dir, 'student.lmspc'), '--out', join(dir, 'out')).code).toBe(0)
    expect(readFileSync(join(dir, 'out', 'student.ts'), 'utf8')).toContain('export class StudentSystemClient')
  })

  it('exits 2 on bad usage', () => {
    expect(run().code).toBe(2)
    expect(run('check').code).toBe(2)
    expect(run('gen', f('student.unipc')).code).toBe(2)
    expect(run('frobnicate').code).toBe(2)
    expect(run('check', f('student.unipc'), '--format', 'xml').code).toBe(2)
  })

  it('exits 1 when a spec file does not exist', () => {
    const r = run('check', f('does-not-exist.unipc'))
    expect(r.code).toBe(1)
    expect(r.err).toContain('cannot read spec file')
  })
})

describe('unipc-idl gen --verify', () => {
  it('passes on fresh output and fails on stale or missing files', () => {
    const out = temp()
    expect(run('gen', f('everything.unipc'), '--out', out).code).toBe(0)
    expect(run('gen', f('everything.unipc'), '--out', out, '--verify').code).toBe(0)
    writeFileSync(
      join(out, 'everything.ts'),
      `${readFileSync(join(out, 'everything.ts'), 'utf8')}// edited\n`,
    )
    const stale = run('gen', f('everything.unipc'), '--out', out, '--verify')
    expect(stale.code).toBe(1)
    expect(stale.err).toContain('stale:')
    expect(stale.err).toContain('everything.ts')
    expect(run('gen', f('everything.unipc'), '--out', out).code).toBe(0)
    unlinkSync(join(out, 'common.ts'))
    expect(run('gen', f('everything.unipc'), '--out', out, '--verify').code).toBe(1)
  })

  it('refuses to generate from a spec with errors', () => {
    const out = temp()
    rmSync(out, { recursive: true })
    expect(run('gen', f('broken/syntax.unipc'), '--out', out).code).toBe(1)
    expect(existsSync(out)).toBe(false)
  })
})

describe('unipc-idl init-server', () => {
  it('writes the starter server once and never overwrites it', () => {
    const out = temp()
    const first = run('init-server', f('student.unipc'), '--out', out)
    expect(first.code).toBe(0)
    const path = join(out, 'student-server.ts')
    expect(readFileSync(path, 'utf8')).toContain('export class StudentSystemImpl extends StudentSystemServer')
    writeFileSync(path, '// my edits\n')
    const second = run('init-server', f('student.unipc'), '--out', out)
    expect(second.code).toBe(0)
    expect(second.out).toContain('left unchanged')
    expect(readFileSync(path, 'utf8')).toBe('// my edits\n')
  })

  it('needs a spec with a service', () => {
    expect(run('init-server', f('common.unipc'), '--out', temp()).code).toBe(1)
  })
})

describe('unipc-idl diff', () => {
  it('reports identical specs as unchanged', () => {
    expect(run('diff', f('student.unipc'), f('student.unipc'))).toMatchObject({
      code: 0,
      out: 'no changes\n',
    })
  })

  it('lists added optional fields, methods and events as compatible', () => {
    const r = run('diff', f('student.unipc'), f('diff/student-compatible.unipc'))
    expect(r.code).toBe(0)
    const lines = r.out.trim().split('\n')
    expect(lines.every((l) => l.startsWith('compatible'))).toBe(true)
    expect(r.out).toContain('list_students: only the server has this method')
    expect(r.out).toContain('event student_removed: only the server has this method')
    expect(r.out).toMatch(/get_student: result\.nickname: field only the server has/)
  })

  it('lists changed types and removed methods as breaking, and exits 1', () => {
    const r = run('diff', f('student.unipc'), f('diff/student-breaking.unipc'))
    expect(r.code).toBe(1)
    expect(r.out).toContain('breaking    get_student: params.id: client sends string, server expects int32')
    expect(r.out).toContain('breaking    update_student: the server does not have this method')
    expect(r.out).toContain(
      'breaking    get_student: result.age: server returns uint16, client expects uint8',
    )
  })

  it('gives the changes as JSON', () => {
    const r = run('diff', f('student.unipc'), f('diff/student-breaking.unipc'), '--format', 'json')
    const json = JSON.parse(r.out) as {
      breaking: boolean
      changes: { member: string; compatible: boolean }[]
    }
    expect(json.breaking).toBe(true)
    expect(json.changes.some((c) => c.member === 'update_student' && !c.compatible)).toBe(true)
  })
})
