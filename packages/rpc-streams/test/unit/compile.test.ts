import { ValidationError } from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { defineService, type Type, t, validate } from '../../src/index.js'
import { compileIsValid, compileValidator } from '../../src/types/compile.js'
import { isValid } from '../../src/types/validate.js'
import { Student } from '../fixtures/student.js'
import { Tree } from '../fixtures/tree.js'

const trees = defineService({ name: 'compile.trees', methods: { get: { result: Tree } } })
const resolve = trees.resolve

/** What the interpreter says: 'ok' or the error's path and message. */
function interpreted(type: Type, value: unknown): string {
  try {
    validate(type, value, { resolve, path: 'p' })
    return 'ok'
  } catch (err) {
    return `${(err as ValidationError).path}: ${(err as ValidationError).message}`
  }
}

function compiled(type: Type, value: unknown): string {
  try {
    compileValidator(type, resolve, 'p')(value)
    return 'ok'
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    return `${(err as ValidationError).path}: ${(err as ValidationError).message}`
  }
}

/** A chain of `levels` trees, each the only kid of the one above. */
function chain(levels: number): unknown {
  let node: unknown = { name: 'leaf', kids: [] }
  for (let i = 0; i < levels; i++) node = { name: `n${i}`, kids: [node] }
  return node
}

const Everything = t.model('Everything', {
  ...Student.fields,
  seen: t.nullable(t.timestamp()),
  extra: t.record(t.union([t.bigint(), t.literal(7), t.bool()])),
  anything: t.any(),
  nothing: t.void(),
  big: t.optional(t.int64()),
  small: t.optional(t.int8()),
  ratio: t.optional(t.float32()),
})
const good = {
  id: 'x',
  age: 20,
  grades: new Map([['math', 5.5]]),
  tags: ['a'],
  seen: null,
  extra: { a: 1n, b: 7, c: true },
}

const cases: [string, Type, unknown][] = [
  ['valid student', Everything, good],
  ['extra fields allowed', Everything, { ...good, more: 1 }],
  ['enum item', Everything, { ...good, tags: ['a', 'c'] }],
  ['int range', Everything, { ...good, age: 256 }],
  ['int fraction', Everything, { ...good, age: 1.5 }],
  ['int as string', Everything, { ...good, age: '1' }],
  ['int64 unsafe', Everything, { ...good, big: 2 ** 60 }],
  ['int8 negative', Everything, { ...good, small: -128 }],
  ['int8 below', Everything, { ...good, small: -129 }],
  ['missing required', Everything, { id: 'x', age: 1, tags: [] }],
  ['optional null', Everything, { ...good, nick: null }],
  ['bytes', Everything, { ...good, photo: new Uint8Array(2) }],
  ['Buffer is bytes', Everything, { ...good, photo: Buffer.alloc(2) }],
  ['bytes wrong', Everything, { ...good, photo: 'x' }],
  ['map value', Everything, { ...good, grades: new Map([['math', 'A']]) }],
  ['map key', Everything, { ...good, grades: new Map([[1, 2]]) }],
  ['not a map', Everything, { ...good, grades: { math: 1 } }],
  ['timestamp', Everything, { ...good, seen: new Date(0) }],
  ['invalid date', Everything, { ...good, seen: new Date(Number.NaN) }],
  ['record union', Everything, { ...good, extra: { a: 8 } }],
  ['record not plain', Everything, { ...good, extra: new Date() }],
  ['void field', Everything, { ...good, nothing: 1 }],
  ['float32 string', Everything, { ...good, ratio: '1' }],
  ['array of objects', Everything, [good]],
  ['null', Everything, null],
  ['class instance', Everything, new (class {})()],
  ['null prototype', t.object({}), Object.create(null)],
  ['literal', t.literal('x'), 'y'],
  ['void null', t.void(), null],
  ['tree', Tree, chain(3)],
  ['tree bad leaf', Tree, { name: 'a', kids: [{ name: 'b', kids: [{ name: 3, kids: [] }] }] }],
  ['tree at the depth limit', Tree, chain(85)],
  ['tree beyond the depth limit', Tree, chain(86)],
  ['unknown ref', t.ref('Nope'), {}],
  ['unknown kind', { kind: 'weird' } as Type, 1],
]

describe('compiled validators', () => {
  it.each(cases)('agree with the interpreter: %s', (_name, type, value) => {
    expect(compileIsValid(type, resolve)(value)).toBe(isValid(type, value, resolve))
    expect(compiled(type, value)).toBe(interpreted(type, value))
  })

  it('covers both outcomes and the depth limit', () => {
    const outcomes = cases.map(([, type, value]) => interpreted(type, value))
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(5)
    expect(outcomes.filter((o) => o !== 'ok').length).toBeGreaterThan(15)
    expect(interpreted(Tree, chain(86))).toMatch(/nested more than 256 levels/)
    expect(interpreted(Tree, chain(85))).toBe('ok')
  })
})
