import { describe, expect, it } from 'vitest'
import {
  compareSchemas,
  defineError,
  defineService,
  type Fields,
  formatDifference,
  type MethodSpecs,
  type ModelType,
  t,
} from '../../src/index.js'

const NotFound = defineError('NotFound', { id: t.string() })
const v1Student = t.model('Student', { id: t.string(), name: t.string(), level: t.enum(['a', 'b']) })

const svc = (methods: MethodSpecs) => defineService({ name: 'school', methods })
const base = {
  get: { params: t.object({ id: t.string() }), result: v1Student, errors: [NotFound] },
  list: { params: t.object({ limit: t.optional(t.uint32()) }), result: v1Student, stream: true },
}
const v1 = svc(base)

const incompatible = (client: MethodSpecs, server: MethodSpecs): string[] =>
  compareSchemas(svc(client).canonical, svc(server).canonical).incompatible.map(formatDifference)
const compatible = (client: MethodSpecs, server: MethodSpecs): string[] =>
  compareSchemas(svc(client).canonical, svc(server).canonical)
    .differences.filter((d) => d.compatible)
    .map(formatDifference)

describe('compareSchemas', () => {
  it('finds nothing between equal definitions', () => {
    const r = compareSchemas(v1.canonical, svc(base).canonical)
    expect(r.equal).toBe(true)
    expect(r.differences).toEqual([])
  })

  it('treats an added optional parameter as compatible in both directions', () => {
    const v2 = {
      ...base,
      get: { ...base.get, params: t.object({ id: t.string(), verbose: t.optional(t.bool()) }) },
    }
    expect(incompatible(base, v2)).toEqual([])
    expect(incompatible(v2, base)).toEqual([])
    expect(compatible(base, v2)).toEqual(['method get: params.verbose: optional field only the server has'])
  })

  it('treats a method only the server has as compatible, one only the client has as incompatible', () => {
    const v2 = { ...base, count: { result: t.uint32() } }
    expect(incompatible(base, v2)).toEqual([])
    expect(compatible(base, v2)).toContain('method count: only the server has this method')
    expect(incompatible(v2, base)).toEqual(['method count: the server does not have this method'])
  })

  it('names the method and field of a changed parameter type', () => {
    const v2 = { ...base, get: { ...base.get, params: t.object({ id: t.int32() }) } }
    expect(incompatible(base, v2)).toEqual([
      'method get: params.id: client sends string, server expects int32',
    ])
  })

  it('names a field the server newly requires', () => {
    const v2 = { ...base, get: { ...base.get, params: t.object({ id: t.string(), school: t.string() }) } }
    expect(incompatible(base, v2)).toEqual([
      'method get: params.school: required by the server, missing on the client',
    ])
  })

  it('follows models into results and items (writer = server)', () => {
    const s2 = t.model('Student', { id: t.string(), level: t.enum(['a', 'b', 'c']), age: t.uint8() })
    const v2 = {
      get: { ...base.get, result: s2 },
      list: { ...base.list, result: s2 },
    }
    expect(incompatible(base, v2)).toEqual([
      'method get: result.level: server may send c, unknown to the client',
      'method get: result.name: required by the client, missing on the server',
      'method list: item.level: server may send c, unknown to the client',
      'method list: item.name: required by the client, missing on the server',
    ])
    expect(compatible(base, v2)).toContain(
      'method get: result.age: field only the server has (the client ignores it)',
    )
  })

  it('accepts integer widening towards the reader and rejects narrowing', () => {
    const wide = { get: { params: t.object({ n: t.int64() }), result: t.int64() } }
    const narrow = { get: { params: t.object({ n: t.int8() }), result: t.int8() } }
    expect(incompatible(wide, narrow)).toEqual([
      'method get: params.n: client sends int64, server expects int8',
    ])
    expect(incompatible(narrow, wide)).toEqual([
      'method get: result: server returns int64, client expects int8',
    ])
    expect(compatible(narrow, wide)).toEqual(['method get: params.n: widened from int8 to int64'])
  })

  it('flags a streaming method that became unary and optional results the client requires', () => {
    expect(incompatible(base, { ...base, list: { ...base.list, stream: false } })).toEqual([
      'method list: client expects a streaming method, server has a unary one',
    ])
    expect(
      incompatible({ get: { result: t.string() } }, { get: { result: t.optional(t.string()) } }),
    ).toEqual(['method get: result: may be absent on the server, client requires it'])
  })

  it('compares error fields and notes errors only one side declares', () => {
    const E2 = defineError('NotFound', { id: t.int32() })
    const Other = defineError('Gone')
    expect(incompatible(base, { ...base, get: { ...base.get, errors: [E2] } })).toEqual([
      'method get: error NotFound.id: server returns int32, client expects string',
    ])
    expect(compatible(base, { ...base, get: { ...base.get, errors: [NotFound, Other] } })).toEqual([
      'method get: error Gone: declared only by the server (the client gets it as RemoteError)',
    ])
  })

  it('terminates on recursive models', () => {
    interface Tree {
      name: string
      kids: Tree[]
    }
    const T1: ModelType<Fields, Tree> = t.model('Tree', {
      name: t.string(),
      kids: t.array(t.ref<Tree>('Tree')),
    })
    const T2 = t.model('Tree', { name: t.int32(), kids: t.array(t.ref('Tree')) })
    expect(incompatible({ get: { result: T1 } }, { get: { result: T2 } })).toEqual([
      'method get: result.name: server returns int32, client expects string',
    ])
  })
})
