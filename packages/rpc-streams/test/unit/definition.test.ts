import { InvalidArgumentError, ValidationError } from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { canonicalType, defineError, defineService, ServiceError, t, validate } from '../../src/index.js'
import { Student } from '../fixtures/student.js'
import { Tree } from '../fixtures/tree.js'

const NotFound = defineError('StudentNotFound', { id: t.string() }, { message: (f) => `no student ${f.id}` })

describe('type descriptors', () => {
  const good = { id: 'x', age: 20, grades: new Map([['math', 5.5]]), tags: ['a'] }

  it('accepts a value that matches, with unknown extra fields', () => {
    expect(() => validate(Student, { ...good, extra: 1 })).not.toThrow()
  })

  it('names the field path of the first problem', () => {
    const bad = { ...good, tags: ['a', 'c'] }
    expect(() => validate(Student, bad, { path: 'params' })).toThrow(ValidationError)
    try {
      validate(Student, bad, { path: 'params' })
    } catch (err) {
      expect((err as ValidationError).path).toBe('params.tags[1]')
      expect((err as ValidationError).message).toContain('one of "a", "b"')
    }
  })

  it('checks integer ranges, required fields, bytes and map values', () => {
    const pathOf = (v: unknown): string => {
      try {
        validate(Student, v)
        return 'ok'
      } catch (err) {
        return (err as ValidationError).path
      }
    }
    expect(pathOf({ ...good, age: 256 })).toBe('age')
    expect(pathOf({ ...good, age: 1.5 })).toBe('age')
    expect(pathOf({ id: 'x', age: 1, tags: [] })).toBe('grades')
    expect(pathOf({ ...good, photo: 'not bytes' })).toBe('photo')
    expect(pathOf({ ...good, photo: new Uint8Array(2) })).toBe('ok')
    expect(pathOf({ ...good, grades: new Map([['math', 'A']]) })).toBe('grades[math]')
    expect(pathOf({ ...good, nick: null })).toBe('ok')
  })

  it('validates recursive models through refs', () => {
    const svc = defineService({ name: 'trees', methods: { get: { result: Tree } } })
    const deep = { name: 'a', kids: [{ name: 'b', kids: [{ name: 'c', kids: [{ name: 3, kids: [] }] }] }] }
    expect(() => validate(Tree, deep, { resolve: svc.resolve })).toThrow(
      /kids\[0\]\.kids\[0\]\.kids\[0\]\.name/,
    )
    expect(() => validate(Tree, { name: 'a', kids: [] }, { resolve: svc.resolve })).not.toThrow()
  })

  it('unions accept any variant and reject the rest', () => {
    const u = t.union([t.string(), t.array(t.int32())])
    expect(() => validate(u, 'x')).not.toThrow()
    expect(() => validate(u, [1, 2])).not.toThrow()
    expect(() => validate(u, [1, 'x'])).toThrow(ValidationError)
  })

  it('has a canonical form without docs, with models by name and sorted fields', () => {
    expect(canonicalType(t.object({ b: t.string({ doc: 'x' }), a: t.optional(Student) }))).toEqual({
      object: { a: { optional: { ref: 'Student' } }, b: 'string' },
    })
    expect(JSON.stringify(canonicalType(t.object({ b: t.bool(), a: t.bool() })))).toBe(
      '{"object":{"a":"bool","b":"bool"}}',
    )
  })
})

describe('defineService', () => {
  const make = (version: string, doc?: string) =>
    defineService({
      name: 'school.Students',
      version,
      doc,
      models: [Tree],
      methods: {
        get: { params: t.object({ id: t.string() }), result: Student, errors: [NotFound] },
        list: { params: t.object({ limit: t.optional(t.uint32()) }), result: Student, stream: true },
      },
    })

  it('collects models and errors and gives a stable fingerprint', () => {
    const a = make('1.0.0')
    const b = make('2.0.0', 'docs do not count')
    expect([...a.models.keys()].sort()).toEqual(['Student', 'Tree'])
    expect([...a.errors.keys()]).toEqual(['StudentNotFound'])
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(b.fingerprint).toBe(a.fingerprint)
  })

  it('changes the fingerprint when a field changes', () => {
    const other = defineService({
      name: 'school.Students',
      methods: { get: { params: t.object({ id: t.int32() }), result: Student, errors: [NotFound] } },
    })
    expect(other.fingerprint).not.toBe(make('1').fingerprint)
  })

  it('rejects reserved method names, unknown refs and clashing models', () => {
    expect(() => defineService({ name: 's', methods: { _schema: {} } })).toThrow(InvalidArgumentError)
    expect(() => defineService({ name: 's', methods: { get: { result: t.ref('Nope') } } })).toThrow(/Nope/)
    const Other = t.model('Student', { x: t.string() })
    expect(() =>
      defineService({ name: 's', methods: { a: { result: Student }, b: { result: Other } } }),
    ).toThrow(/two different models/)
    expect(() => defineService({ name: 'bad name', methods: {} })).toThrow(InvalidArgumentError)
  })
})

describe('defineError', () => {
  it('makes a class with typed fields, a message and a code', () => {
    const e = new NotFound({ id: '42' })
    expect(e).toBeInstanceOf(ServiceError)
    expect(e).toBeInstanceOf(NotFound)
    expect(e.name).toBe('StudentNotFound')
    expect(e.code).toBe('StudentNotFound')
    expect(e.message).toBe('no student 42')
    expect(e.id).toBe('42')
    expect(e.data).toEqual({ id: '42' })
  })

  it('refuses reserved field names', () => {
    expect(() => defineError('Bad', { message: t.string() })).toThrow(InvalidArgumentError)
    expect(() => defineError('Bad', { data: t.string() })).toThrow(InvalidArgumentError)
  })
})
