/**
 * Compares a client's and a server's canonical service definitions and lists every difference,
 * each marked compatible or not. The rule is "can the reader read what the writer writes": the
 * client writes params and reads results, items and error fields; the server does the opposite.
 * So an optional field the client adds is fine (the server passes unknown fields through), a field
 * the server newly requires is not, a method only the server has is fine, a method only the client
 * has is not (for that method), and a changed type is not.
 * @module
 */
import { type CanonicalService, type CanonicalType, stableStringify } from '../types/canonical.js'
import { INT_RANGES, type IntKind, isIntKind } from '../types/descriptors.js'

/** One difference between client and server. */
export interface SchemaDifference {
  /** The method it concerns; undefined for service-level differences. */
  readonly method: string | undefined
  /** Where: `params.id`, `result.tags[]`, `error StudentNotFound.id`, or empty for the method itself. */
  readonly path: string
  /** What differs, e.g. `client sends string, server expects int32`. */
  readonly message: string
  /** True when calls still work (added optional field, added method…). */
  readonly compatible: boolean
  /** `method-missing` when the server lacks the method, `method-added` when only it has it, else `type`. */
  readonly kind: 'service' | 'method-missing' | 'method-added' | 'type'
}

/** What {@link compareSchemas} finds. */
export interface SchemaComparison {
  /** True when the canonical forms are identical. */
  readonly equal: boolean
  /** Every difference, compatible or not. */
  readonly differences: readonly SchemaDifference[]
  /** Only the incompatible ones. */
  readonly incompatible: readonly SchemaDifference[]
}

/** `method get: params.id: client sends string, server expects int32` */
export function formatDifference(d: SchemaDifference): string {
  const where = [d.method === undefined ? 'service' : `method ${d.method}`, d.path].filter(Boolean).join(': ')
  return `${where}: ${d.message}`
}

type Side = 'client' | 'server'

interface Ctx {
  readonly method: string | undefined
  readonly writer: Side
  readonly writerModels: Record<string, CanonicalType>
  readonly readerModels: Record<string, CanonicalType>
  /** Pairs of model names already being compared (stops recursion on recursive models). */
  readonly seen: Set<string>
  readonly out: SchemaDifference[]
}

const other = (s: Side): Side => (s === 'client' ? 'server' : 'client')

/**
 * Compares two canonical service definitions.
 * @param client - the client's definition (what it sends and expects)
 * @param server - the server's definition
 * @returns every difference; `incompatible` is empty when all calls the client can make still work
 * @example
 * const { incompatible } = compareSchemas(oldVersion.canonical, newVersion.canonical)
 * // a new server is safe for old clients when incompatible.length === 0
 */
export function compareSchemas(client: CanonicalService, server: CanonicalService): SchemaComparison {
  const out: SchemaDifference[] = []
  if (client.name !== server.name)
    out.push({
      method: undefined,
      path: '',
      message: `client calls service '${client.name}', server is '${server.name}'`,
      compatible: false,
      kind: 'service',
    })
  for (const name of Object.keys(client.methods).sort()) {
    const c = client.methods[name]!
    const s = server.methods[name]
    if (!s) {
      out.push({
        method: name,
        path: '',
        message: 'the server does not have this method',
        compatible: false,
        kind: 'method-missing',
      })
      continue
    }
    if (c.stream !== s.stream) {
      const kind = (x: boolean): string => (x ? 'streaming' : 'unary')
      out.push({
        method: name,
        path: '',
        message: `client expects a ${kind(c.stream)} method, server has a ${kind(s.stream)} one`,
        compatible: false,
        kind: 'type',
      })
      continue
    }
    const ctx = (writer: Side): Ctx => ({
      method: name,
      writer,
      writerModels: writer === 'client' ? client.models : server.models,
      readerModels: writer === 'client' ? server.models : client.models,
      seen: new Set(),
      out,
    })
    readable(c.params, s.params, 'params', ctx('client'))
    readable(s.result, c.result, s.stream ? 'item' : 'result', ctx('server'))
    for (const e of s.errors) {
      if (!c.errors.includes(e)) {
        out.push({
          method: name,
          path: `error ${e}`,
          message: 'declared only by the server (the client gets it as RemoteError)',
          compatible: true,
          kind: 'type',
        })
      } else {
        const se = server.errors[e]
        const ce = client.errors[e]
        if (se && ce) readable(se, ce, `error ${e}`, ctx('server'))
      }
    }
    for (const e of c.errors) {
      if (!s.errors.includes(e))
        out.push({
          method: name,
          path: `error ${e}`,
          message: 'declared only by the client',
          compatible: true,
          kind: 'type',
        })
    }
  }
  for (const name of Object.keys(server.methods).sort()) {
    if (!client.methods[name])
      out.push({
        method: name,
        path: '',
        message: 'only the server has this method',
        compatible: true,
        kind: 'method-added',
      })
  }
  const equal = stableStringify(client) === stableStringify(server)
  return { equal, differences: out, incompatible: out.filter((d) => !d.compatible) }
}

/** Short text for a type: `string`, `array<int32>`, `Student`, `enum(a|b)`. */
export function describeType(t: CanonicalType): string {
  if (typeof t === 'string') return t
  const [k, v] = Object.entries(t)[0] as [string, unknown]
  switch (k) {
    case 'ref':
      return String(v)
    case 'enum':
      return `enum(${(v as string[]).join('|')})`
    case 'literal':
      return JSON.stringify(v)
    case 'object':
      return 'object'
    case 'map':
      return `map<${(v as CanonicalType[]).map(describeType).join(', ')}>`
    case 'union':
      return `union<${(v as CanonicalType[]).map(describeType).join(' | ')}>`
    default:
      return `${k}<${describeType(v as CanonicalType)}>`
  }
}

const kindOf = (t: CanonicalType): string => (typeof t === 'string' ? t : (Object.keys(t)[0] as string))
const inner = <T = CanonicalType>(t: CanonicalType): T => Object.values(t as object)[0] as T
const isAbsentOk = (t: CanonicalType): boolean => ['optional', 'any', 'void'].includes(kindOf(t))

function resolve(t: CanonicalType, models: Record<string, CanonicalType>): CanonicalType | undefined {
  return kindOf(t) === 'ref' ? models[inner<string>(t)] : t
}

function push(ctx: Ctx, path: string, message: string, compatible: boolean): void {
  ctx.out.push({ method: ctx.method, path, message, compatible, kind: 'type' })
}

/** Can a value written as `w` (by ctx.writer) be read as `r` (by the other side)? Records differences. */
function readable(w: CanonicalType, r: CanonicalType, path: string, ctx: Ctx): void {
  const reader = other(ctx.writer)
  const mismatch = (): void =>
    push(
      ctx,
      path,
      `${ctx.writer} ${ctx.writer === 'client' ? 'sends' : 'returns'} ${describeType(w)}, ${reader} expects ${describeType(r)}`,
      false,
    )
  const wk = kindOf(w)
  const rk = kindOf(r)
  if (rk === 'any') return
  if (wk === 'ref' || rk === 'ref') {
    const key = `${wk === 'ref' ? inner(w) : '-'}|${rk === 'ref' ? inner(r) : '-'}`
    if (ctx.seen.has(key)) return
    ctx.seen.add(key)
    const wr = resolve(w, ctx.writerModels)
    const rr = resolve(r, ctx.readerModels)
    if (!wr || !rr) {
      push(ctx, path, `model ${describeType(wr ? r : w)} is not defined`, false)
      return
    }
    readable(wr, rr, path, ctx)
    return
  }
  if (rk === 'optional' || rk === 'nullable') {
    readable(wk === rk ? inner(w) : w, inner(r), path, ctx)
    return
  }
  if (wk === 'optional' || wk === 'nullable') {
    if (rk !== 'void')
      push(
        ctx,
        path,
        `may be ${wk === 'optional' ? 'absent' : 'null'} on the ${ctx.writer}, ${reader} requires it`,
        false,
      )
    return
  }
  if (wk === 'union') {
    for (const variant of inner<CanonicalType[]>(w)) {
      if (!acceptsSome(variant, r, ctx))
        push(
          ctx,
          path,
          `${ctx.writer} may send ${describeType(variant)}, which the ${reader} does not accept`,
          false,
        )
    }
    if (rk === 'union') {
      const extra = inner<CanonicalType[]>(r).filter(
        (rv) => !inner<CanonicalType[]>(w).some((wv) => same(wv, rv)),
      )
      if (extra.length > 0)
        push(ctx, path, `${reader} also accepts ${extra.map(describeType).join(', ')}`, true)
    }
    return
  }
  if (rk === 'union') {
    if (!acceptsSome(w, r, ctx)) mismatch()
    return
  }
  if (isIntKind(wk) && isIntKind(rk)) {
    if (wk === rk) return
    const [wmin, wmax] = INT_RANGES[wk as IntKind]
    const [rmin, rmax] = INT_RANGES[rk as IntKind]
    if (wmin >= rmin && wmax <= rmax) push(ctx, path, `widened from ${wk} to ${rk}`, true)
    else mismatch()
    return
  }
  if ((wk === 'float32' || wk === 'float64' || isIntKind(wk)) && (rk === 'float32' || rk === 'float64')) {
    if (wk !== rk) push(ctx, path, `${ctx.writer} has ${wk}, ${reader} has ${rk}`, true)
    return
  }
  if (
    wk === 'literal' &&
    (rk === 'literal' || rk === 'enum' || rk === 'string' || rk === 'bool' || rk === 'float64')
  ) {
    const v = inner<unknown>(w)
    const ok =
      (rk === 'literal' && inner(r) === v) ||
      (rk === 'enum' && inner<string[]>(r).includes(v as string)) ||
      (rk === 'string' && typeof v === 'string') ||
      (rk === 'bool' && typeof v === 'boolean') ||
      (rk === 'float64' && typeof v === 'number')
    if (!ok) mismatch()
    return
  }
  if (wk === 'enum' && rk === 'string') return
  if (wk !== rk) {
    mismatch()
    return
  }
  switch (wk) {
    case 'enum': {
      const wv = inner<string[]>(w)
      const rv = inner<string[]>(r)
      const missing = wv.filter((v) => !rv.includes(v))
      const added = rv.filter((v) => !wv.includes(v))
      if (missing.length > 0)
        push(ctx, path, `${ctx.writer} may send ${missing.join(', ')}, unknown to the ${reader}`, false)
      if (added.length > 0) push(ctx, path, `${reader} also knows ${added.join(', ')}`, true)
      return
    }
    case 'array':
    case 'record':
      readable(inner(w), inner(r), `${path}[]`, ctx)
      return
    case 'map': {
      const [wkk, wvv] = inner<CanonicalType[]>(w)
      const [rkk, rvv] = inner<CanonicalType[]>(r)
      readable(wkk!, rkk!, `${path}[key]`, ctx)
      readable(wvv!, rvv!, `${path}[]`, ctx)
      return
    }
    case 'literal':
      if (inner(w) !== inner(r)) mismatch()
      return
    case 'object': {
      const wf = inner<Record<string, CanonicalType>>(w)
      const rf = inner<Record<string, CanonicalType>>(r)
      for (const name of Object.keys(rf).sort()) {
        const fp = path ? `${path}.${name}` : name
        const rt = rf[name]!
        const wt = wf[name]
        if (wt !== undefined) readable(wt, rt, fp, ctx)
        else if (isAbsentOk(rt)) push(ctx, fp, `optional field only the ${reader} has`, true)
        else push(ctx, fp, `required by the ${reader}, missing on the ${ctx.writer}`, false)
      }
      for (const name of Object.keys(wf).sort()) {
        if (!(name in rf))
          push(
            ctx,
            path ? `${path}.${name}` : name,
            `field only the ${ctx.writer} has (the ${reader} ignores it)`,
            true,
          )
      }
      return
    }
  }
}

/** Is `w` readable by some variant of union `r` without incompatible differences? */
function acceptsSome(w: CanonicalType, r: CanonicalType, ctx: Ctx): boolean {
  const variants = kindOf(r) === 'union' ? inner<CanonicalType[]>(r) : [r]
  return variants.some((rv) => {
    const scratch: SchemaDifference[] = []
    readable(w, rv, '', { ...ctx, seen: new Set(ctx.seen), out: scratch })
    return scratch.every((d) => d.compatible)
  })
}

function same(a: CanonicalType, b: CanonicalType): boolean {
  return stableStringify(a) === stableStringify(b)
}
