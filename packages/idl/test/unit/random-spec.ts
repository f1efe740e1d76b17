/**
 * A small seeded generator of random spec trees for the round-trip property test. It produces
 * every construct of the language (not necessarily semantically valid: the property is about syntax).
 */
import type {
  Annotation,
  Field,
  Literal,
  Member,
  Param,
  PrimitiveName,
  Span,
  SpecFile,
  TypeDecl,
  TypeRef,
} from '../../src/ast.js'
import { PRIMITIVES } from '../../src/ast.js'

const S: Span = { line: 0, col: 0, offset: 0, length: 0 }

/** mulberry32: a tiny, well-mixed 32-bit PRNG, so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const LOWER = [
  'id',
  'name',
  'age',
  'photo',
  'first_name',
  'x1',
  'value',
  'items',
  'a_b_c',
  'deep',
  'when',
  'k',
]
const UPPER = ['Student', 'Point', 'Tree', 'Color', 'Shape', 'NotFound', 'Busy', 'Widget', 'Thing2', 'Z']
const DOC_CHARS = 'abc xyz /*-_."\'\\{}@`é漢'

/** Generates a random spec tree from `seed`. */
export function randomSpec(seed: number): SpecFile {
  const r = rng(seed)
  const int = (n: number): number => Math.floor(r() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  const chance = (p: number): boolean => r() < p
  const times = <T>(max: number, f: () => T): T[] => Array.from({ length: int(max + 1) }, f)
  const lower = (): string => pick(LOWER) + (chance(0.5) ? String(int(100)) : '')
  const upper = (): string => pick(UPPER) + (chance(0.5) ? String(int(100)) : '')
  const dotted = (): string => (chance(0.2) ? `ns${int(9)}.${upper()}` : upper())
  const doc = (): string | undefined => {
    if (!chance(0.3)) return undefined
    return (
      times(2, () => Array.from({ length: int(12) }, () => pick([...DOC_CHARS])).join('')).join('\n') || ''
    )
  }
  const annotations = (): Annotation[] =>
    times(2, (): Annotation => {
      switch (int(3)) {
        case 0:
          return { kind: 'since', version: 1 + int(9), span: S }
        case 1:
          return { kind: 'deprecated', reason: chance(0.5) ? `use ${lower()} "now"` : undefined, span: S }
        default:
          return { kind: 'timeout', ms: 1 + int(100_000), span: S }
      }
    })
  const type = (depth: number): TypeRef => {
    const roll = depth > 2 ? int(2) : int(5)
    switch (roll) {
      case 0:
        return { kind: 'primitive', name: pick(PRIMITIVES) as PrimitiveName, span: S }
      case 1:
        return { kind: 'named', name: dotted(), span: S }
      case 2:
        return { kind: 'list', element: type(depth + 1), span: S }
      case 3:
        return { kind: 'map', key: type(depth + 1), value: type(depth + 1), span: S }
      default: {
        const inner = type(depth + 1)
        return inner.kind === 'optional' ? inner : { kind: 'optional', inner, span: S }
      }
    }
  }
  const literal = (depth: number): Literal => {
    switch (depth > 1 ? int(7) : int(9)) {
      case 0:
        return { kind: 'int', value: BigInt(int(2 ** 31)) - 2n ** 30n, span: S }
      case 1: {
        const v = (r() - 0.5) * 10 ** int(30)
        return { kind: 'float', value: Object.is(v, -0) ? 0 : v, span: S }
      }
      case 2:
        return {
          kind: 'string',
          value: Array.from({ length: int(8) }, () => pick([...DOC_CHARS, '\n', '\t', '\u0001'])).join(''),
          span: S,
        }
      case 3:
        return { kind: 'bool', value: chance(0.5), span: S }
      case 4:
        return { kind: 'null', span: S }
      case 5:
        return { kind: 'duration', ms: int(10) * pick([1, 1000, 60_000, 3_600_000, 1500]), span: S }
      case 6:
        return { kind: 'ident', name: chance(0.5) ? lower() : `${upper()}.${lower()}`, span: S }
      case 7:
        return { kind: 'list', items: times(3, () => literal(depth + 1)), span: S }
      default:
        return {
          kind: 'map',
          entries: times(2, () => ({ key: literal(depth + 1), value: literal(depth + 1) })),
          span: S,
        }
    }
  }
  const field = (): Field => ({
    kind: 'field',
    doc: doc(),
    annotations: annotations(),
    name: lower(),
    nameSpan: S,
    type: type(0),
    default: chance(0.4) ? literal(0) : undefined,
    span: S,
  })
  const params = (): Param[] =>
    times(3, () => ({ kind: 'param', name: lower(), nameSpan: S, type: type(0), span: S }) satisfies Param)
  const base = () => ({ doc: doc(), annotations: annotations(), nameSpan: S, span: S })
  const typeDecl = (): TypeDecl => {
    switch (int(4)) {
      case 0:
        return { kind: 'model', ...base(), name: upper(), fields: times(4, field) }
      case 1:
        return { kind: 'error', ...base(), name: upper(), fields: times(2, field) }
      case 2:
        return {
          kind: 'enum',
          ...base(),
          name: upper(),
          members: times(4, () => ({ kind: 'enumMember', doc: doc(), name: lower(), nameSpan: S, span: S })),
        }
      default:
        return {
          kind: 'union',
          ...base(),
          name: upper(),
          variants: times(3, () => ({
            kind: 'variant',
            doc: doc(),
            name: lower(),
            nameSpan: S,
            type: type(0),
            span: S,
          })),
        }
    }
  }
  const member = (): Member => {
    switch (int(6)) {
      case 0:
      case 1:
        return {
          kind: 'method',
          ...base(),
          name: lower(),
          stream: chance(0.3),
          params: params(),
          result: chance(0.7) ? type(0) : undefined,
          throws: times(2, () => ({ kind: 'named', name: dotted(), span: S })),
        }
      case 2:
        return { kind: 'command', ...base(), name: lower(), params: params() }
      case 3:
        return { kind: 'event', ...base(), name: lower(), params: params() }
      case 4:
        return {
          kind: 'setting',
          ...base(),
          name: lower(),
          type: type(0),
          default: chance(0.5) ? literal(0) : undefined,
        }
      default:
        return { kind: 'status', ...base(), name: lower(), type: type(0) }
    }
  }
  return {
    kind: 'file',
    path: 'random.unipc',
    namespace: chance(0.7) ? { name: `com.${lower()}.x`, span: S } : undefined,
    service: chance(0.8) ? { kind: 'service', ...base(), name: upper() } : undefined,
    version: chance(0.5) ? { value: 1 + int(20), span: S } : undefined,
    socket: chance(0.2) ? { path: `/run/${lower()}.sock`, span: S } : undefined,
    imports: times(2, () => ({ kind: 'import', path: `${lower()}/"x".unipc`, span: S })),
    types: times(5, typeDecl),
    members: times(6, member),
  }
}
