/**
 * Generates the type declarations of a spec: for each model an interface, its descriptor and (when
 * fields have defaults) a `create<Model>` function; for each enum and union a type and its
 * descriptor; for each error a class made with `defineError`.
 * @module
 */
import type { EnumDecl, ErrorDecl, Field, Literal, ModelDecl, TypeDecl, TypeRef, UnionDecl } from '../ast.js'
import type { GeneratedFile } from './generated-file.js'
import { annotationTags, propertyKey } from './names.js'
import type { Scope } from './scope.js'
import { isRecordKey, RPC, RUNTIME, type TypeWriter } from './types.js'

/** Writes all type declarations of the root file, in an order that has no forward value references. */
export function writeDecls(
  f: GeneratedFile,
  types: TypeWriter,
  scope: Scope,
  decls: readonly TypeDecl[],
): void {
  for (const d of orderForValues(decls, scope)) {
    switch (d.kind) {
      case 'enum':
        writeEnum(f, d)
        break
      case 'union':
        writeUnion(f, types, d)
        break
      case 'model':
        writeModel(f, types, scope, d)
        break
      case 'error':
        writeError(f, types, d)
        break
    }
    f.line('')
  }
}

/**
 * Enums first, then unions (each after the unions it uses), then models and errors: descriptor
 * constants only refer to enum and union constants directly (models go through `t.ref`), so this
 * order never reads a constant before it is initialised.
 */
function orderForValues(decls: readonly TypeDecl[], scope: Scope): TypeDecl[] {
  const unions = decls.filter((d): d is UnionDecl => d.kind === 'union')
  const ordered: UnionDecl[] = []
  const visiting = new Set<UnionDecl>()
  const visit = (u: UnionDecl): void => {
    if (ordered.includes(u) || visiting.has(u)) return
    visiting.add(u)
    for (const v of u.variants) {
      for (const name of namedIn(v.type)) {
        const r = scope.resolve(name)
        if (r.decl.kind === 'union' && scope.isLocal(r)) visit(r.decl)
      }
    }
    ordered.push(u)
  }
  for (const u of unions) visit(u)
  return [
    ...decls.filter((d) => d.kind === 'enum'),
    ...ordered,
    ...decls.filter((d) => d.kind === 'model'),
    ...decls.filter((d) => d.kind === 'error'),
  ]
}

function namedIn(t: TypeRef): string[] {
  switch (t.kind) {
    case 'named':
      return [t.name]
    case 'list':
      return namedIn(t.element)
    case 'optional':
      return namedIn(t.inner)
    case 'map':
      return [...namedIn(t.key), ...namedIn(t.value)]
    default:
      return []
  }
}

function writeEnum(f: GeneratedFile, d: EnumDecl): void {
  const memberDocs = d.members
    .filter((m) => m.doc)
    .map((m) => `- \`${m.name}\`: ${m.doc!.replaceAll('\n', ' ')}`)
  const doc = [d.doc, ...memberDocs].filter((x) => x !== undefined).join('\n')
  f.doc(doc, annotationTags(d.annotations))
  const values = d.members.map((m) => `'${m.name}'`)
  f.line(`export type ${d.name} = ${values.length > 0 ? values.join(' | ') : 'never'}`)
  f.doc(`Runtime descriptor of {@link ${d.name}}.`)
  f.line(`export const ${d.name} = ${f.use('t', RPC)}.enum([${values.join(', ')}], { name: '${d.name}' })`)
}

function writeUnion(f: GeneratedFile, types: TypeWriter, d: UnionDecl): void {
  const variantDocs = d.variants
    .filter((v) => v.doc)
    .map((v) => `- \`${v.name}\`: ${v.doc!.replaceAll('\n', ' ')}`)
  const doc = [
    d.doc ?? `One of: ${d.variants.map((v) => v.name).join(', ')}.`,
    'Tell the variants apart by `kind`.',
    ...variantDocs,
  ]
  f.doc(doc.join('\n'), annotationTags(d.annotations))
  if (d.variants.length === 0) f.line(`export type ${d.name} = never`)
  else {
    f.line(`export type ${d.name} =`)
    for (const v of d.variants) f.line(`  | { kind: '${v.name}'; value: ${types.ts(v.type)} }`)
  }
  const t = f.use('t', RPC)
  f.doc(`Runtime descriptor of {@link ${d.name}}.`)
  f.block(
    `export const ${d.name}: ${f.use('Type', RPC, true)}<${d.name}> = ${t}.union([`,
    () => {
      for (const v of d.variants)
        f.line(`${t}.object({ kind: ${t}.literal('${v.name}'), value: ${types.descriptor(v.type)} }),`)
    },
    '])',
  )
}

function fieldLine(types: TypeWriter, field: Field): string {
  const optional = field.type.kind === 'optional'
  const ts = types.ts(optional && field.type.kind === 'optional' ? field.type.inner : field.type)
  return `${propertyKey(field.name)}${optional ? '?' : ''}: ${ts}`
}

function writeModel(f: GeneratedFile, types: TypeWriter, scope: Scope, d: ModelDecl): void {
  f.doc(d.doc, annotationTags(d.annotations))
  f.block(`export interface ${d.name} {`, () => {
    for (const field of d.fields) {
      f.doc(field.doc, annotationTags(field.annotations))
      f.line(fieldLine(types, field))
    }
  })
  f.doc(`Runtime descriptor of {@link ${d.name}}.`)
  f.use('t', RPC) // field descriptors below are written as t.<kind>(…)
  const modelType = `${f.use('ModelType', RPC, true)}<${f.use('Fields', RPC, true)}, ${d.name}>`
  f.block(
    `export const ${d.name}: ${modelType} = ${f.use('typedModel', RUNTIME)}<${d.name}>()('${d.name}', {`,
    () => {
      for (const field of d.fields) f.line(`${propertyKey(field.name)}: ${types.descriptor(field.type)},`)
    },
    '})',
  )
  const withDefaults = d.fields.filter((x) => x.default !== undefined)
  if (withDefaults.length === 0) return
  const keys = withDefaults.map((x) => `'${x.name}'`).join(' | ')
  f.line('')
  f.doc(`A new {@link ${d.name}}: the fields with defaults may be left out.`)
  f.block(
    `export function create${d.name}(init: Omit<${d.name}, ${keys}> & Partial<Pick<${d.name}, ${keys}>>): ${d.name} {`,
    () => {
      f.block('return {', () => {
        for (const x of withDefaults)
          f.line(`${propertyKey(x.name)}: ${literalExpr(x.default!, x.type, scope)},`)
        f.line('...init,')
      })
    },
  )
}

function writeError(f: GeneratedFile, types: TypeWriter, d: ErrorDecl): void {
  f.doc(d.doc, annotationTags(d.annotations))
  const define = f.use('defineError', RPC)
  const fields = d.fields.map((x) => `${propertyKey(x.name)}: ${types.descriptor(x.type)}`)
  const options = d.doc ? `, { doc: ${JSON.stringify(d.doc)} }` : ''
  const fieldsArg = fields.length > 0 || options ? `, { ${fields.join(', ')} }` : ''
  f.line(`export const ${d.name} = ${define}('${d.name}'${fieldsArg.replace('{  }', '{}')}${options})`)
  f.doc(d.doc ?? `Instances of the {@link ${d.name}} error.`)
  f.line(`export type ${d.name} = InstanceType<typeof ${d.name}>`)
}

/** The TypeScript expression of a default value of type `type`. */
export function literalExpr(lit: Literal, type: TypeRef, scope: Scope): string {
  const inner = type.kind === 'optional' ? type.inner : type
  switch (lit.kind) {
    case 'int':
      return String(lit.value)
    case 'float':
      return String(lit.value)
    case 'string':
      return inner.kind === 'primitive' && inner.name === 'timestamp'
        ? `new Date(${JSON.stringify(lit.value)})`
        : JSON.stringify(lit.value)
    case 'bool':
      return String(lit.value)
    case 'null':
      return 'undefined'
    case 'duration':
      return String(lit.ms)
    case 'ident':
      return `'${lit.name.slice(lit.name.lastIndexOf('.') + 1)}'`
    case 'list': {
      const el = inner.kind === 'list' ? inner.element : inner
      return `[${lit.items.map((i) => literalExpr(i, el, scope)).join(', ')}]`
    }
    case 'map': {
      if (inner.kind !== 'map') return '{}'
      const entries = lit.entries.map((e) => [
        literalExpr(e.key, inner.key, scope),
        literalExpr(e.value, inner.value, scope),
      ])
      if (isRecordKey(inner.key, scope))
        return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`
      return `new Map([${entries.map(([k, v]) => `[${k}, ${v}]`).join(', ')}])`
    }
  }
}
