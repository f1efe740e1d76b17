/**
 * The printer: a {@link SpecFile} back to canonical `.unipc` text (canonical spellings, two-space
 * indentation, one declaration per paragraph). `parse(print(ast))` gives the same tree, which a
 * property test checks on random specs; `unipc-idl fmt` could be built on it.
 * @module
 */
import type { Annotation, Literal, Member, SpecFile, TypeDecl, TypeRef } from './ast.js'

/** Prints a whole file in canonical form. */
export function printSpec(file: SpecFile): string {
  const blocks: string[] = []
  const header: string[] = []
  if (file.namespace) header.push(`namespace ${file.namespace.name}`)
  if (file.service)
    header.push(...docLines(file.service.doc, ''), ...annotationLines(file.service.annotations, ''))
  if (file.service) header.push(`service ${file.service.name}`)
  if (file.version) header.push(`version ${file.version.value}`)
  if (file.socket) header.push(`socket ${printString(file.socket.path)}`)
  if (header.length > 0) blocks.push(header.join('\n'))
  if (file.imports.length > 0)
    blocks.push(file.imports.map((i) => `import ${printString(i.path)}`).join('\n'))
  for (const t of file.types) blocks.push(printTypeDecl(t))
  if (file.members.length > 0) blocks.push(file.members.map(printMember).join('\n'))
  return `${blocks.join('\n\n')}\n`
}

/** Prints one type declaration. */
export function printTypeDecl(t: TypeDecl): string {
  const head = [...docLines(t.doc, ''), ...annotationLines(t.annotations, '')]
  const keyword = t.kind
  let body: string[]
  switch (t.kind) {
    case 'model':
    case 'error':
      body = t.fields.flatMap((f) => [
        ...docLines(f.doc, '  '),
        ...annotationLines(f.annotations, '  '),
        `  ${f.name}: ${printType(f.type)}${f.default ? ` = ${printLiteral(f.default)}` : ''}`,
      ])
      if (t.kind === 'error' && t.fields.length === 0) return [...head, `error ${t.name}`].join('\n')
      break
    case 'enum':
      body = t.members.flatMap((m) => [...docLines(m.doc, '  '), `  ${m.name}`])
      break
    case 'union':
      body = t.variants.flatMap((v) => [...docLines(v.doc, '  '), `  ${v.name}: ${printType(v.type)}`])
      break
  }
  return [...head, `${keyword} ${t.name} {`, ...body, '}'].join('\n')
}

/** Prints one service member (with its doc comment and annotations). */
export function printMember(m: Member): string {
  const head = [...docLines(m.doc, ''), ...annotationLines(m.annotations, '')]
  const params = (ps: readonly { name: string; type: TypeRef }[]): string =>
    `(${ps.map((p) => `${p.name}: ${printType(p.type)}`).join(', ')})`
  let line: string
  switch (m.kind) {
    case 'method':
      line =
        `${m.stream ? 'stream ' : ''}method ${m.name}${params(m.params)}` +
        (m.result ? `: ${printType(m.result)}` : '') +
        (m.throws.length > 0 ? ` throws ${m.throws.map((t) => t.name).join(', ')}` : '')
      break
    case 'command':
    case 'event':
      line = `${m.kind} ${m.name}${m.params.length > 0 ? params(m.params) : ''}`
      break
    case 'setting':
      line = `setting ${m.name}: ${printType(m.type)}${m.default ? ` = ${printLiteral(m.default)}` : ''}`
      break
    case 'status':
      line = `status ${m.name}: ${printType(m.type)}`
      break
  }
  return [...head, line].join('\n')
}

/** Prints a type in canonical spelling (`T[]`, never `*T`; `float64`, never `double`). */
export function printType(t: TypeRef): string {
  switch (t.kind) {
    case 'primitive':
    case 'named':
      return t.name
    case 'list':
      return `${printType(t.element)}[]`
    case 'optional':
      return `${printType(t.inner)}?`
    case 'map':
      return `map<${printType(t.key)}, ${printType(t.value)}>`
  }
}

/** Prints a literal so that it scans back to the same kind and value. */
export function printLiteral(l: Literal): string {
  switch (l.kind) {
    case 'int':
      return String(l.value)
    case 'float': {
      const s = String(l.value)
      // A float must not print as an integer, or it would come back as one.
      return /[.eE]/.test(s) ? s : `${s}.0`
    }
    case 'string':
      return printString(l.value)
    case 'bool':
      return String(l.value)
    case 'null':
      return 'null'
    case 'duration':
      return printDuration(l.ms)
    case 'ident':
      return l.name
    case 'list':
      return `[${l.items.map(printLiteral).join(', ')}]`
    case 'map':
      return `{${l.entries.map((e) => `${printLiteral(e.key)}: ${printLiteral(e.value)}`).join(', ')}}`
  }
}

/** A duration in the largest unit that holds it exactly. */
export function printDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** A string literal with the escapes the scanner understands. */
export function printString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const code = ch.charCodeAt(0)
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return `${out}"`
}

function docLines(doc: string | undefined, indent: string): string[] {
  if (doc === undefined) return []
  return doc.split('\n').map((l) => (l === '' ? `${indent}///` : `${indent}/// ${l}`))
}

function annotationLines(annotations: readonly Annotation[], indent: string): string[] {
  return annotations.map((a) => indent + printAnnotation(a))
}

/** Prints one annotation. */
export function printAnnotation(a: Annotation): string {
  switch (a.kind) {
    case 'since':
      return `@since(${a.version})`
    case 'deprecated':
      return `@deprecated${a.reason === undefined ? '' : `(${printString(a.reason)})`}`
    case 'timeout':
      return `@timeout(${printDuration(a.ms)})`
  }
}
