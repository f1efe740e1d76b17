/**
 * Semantic checks of a parsed spec: duplicate names, unknown types (with `did you mean`), defaults
 * that do not fit their type, integer ranges, `throws` that names a non-error, map keys, models that
 * contain themselves, and `@since` beyond the service version.
 * @module
 */
import { type Literal, PRIMITIVES, type Span, type SpecFile, type TypeDecl, type TypeRef } from './ast.js'
import { type Diagnostic, DiagnosticBag, DiagnosticCode, suggest } from './diagnostics.js'
import { INTEGER_RANGES, isIntegerType, PRIMITIVE_ALIASES } from './primitives.js'

/** Declarations visible in a file: its own and those of the files it imports. */
export class TypeTable {
  readonly #byName = new Map<string, TypeDecl>()

  /** Adds the declarations of a file, under their plain name and `namespace.Name`. */
  add(file: SpecFile): void {
    for (const t of file.types) {
      if (!this.#byName.has(t.name)) this.#byName.set(t.name, t)
      if (file.namespace) this.#byName.set(`${file.namespace.name}.${t.name}`, t)
    }
  }

  /** The declaration a type name refers to. */
  get(name: string): TypeDecl | undefined {
    return this.#byName.get(name)
  }

  /** Every visible name (for suggestions). */
  names(): IterableIterator<string> {
    return this.#byName.keys()
  }
}

/**
 * Checks one parsed file.
 * @param file - the file
 * @param imported - the files it imports (already parsed), whose declarations it may use
 */
export function check(file: SpecFile, imported: readonly SpecFile[] = []): Diagnostic[] {
  const diags = new DiagnosticBag(file.path)
  const table = new TypeTable()
  for (const f of imported) table.add(f)
  // Local declarations win over imported ones of the same plain name.
  const local = new TypeTable()
  local.add(file)
  const lookup = (name: string): TypeDecl | undefined => local.get(name) ?? table.get(name)
  const allNames = (): string[] => [...new Set([...local.names(), ...table.names(), ...PRIMITIVES])]

  duplicates(
    diags,
    file.types.map((t) => ({ name: t.name, span: t.nameSpan })),
    'type %',
  )
  for (const f of imported) {
    for (const t of file.types) {
      const other = f.types.find((o) => o.name === t.name)
      if (other)
        diags.error(
          DiagnosticCode.Duplicate,
          t.nameSpan,
          `'${t.name}' is also declared in imported file ${f.path}; rename one of them`,
        )
    }
  }
  duplicates(
    diags,
    file.members.map((m) => ({ name: m.name, span: m.nameSpan })),
    'member %',
  )
  if (file.members.length > 0 && !file.service) {
    diags.error(
      DiagnosticCode.MissingService,
      file.members[0]!.span,
      "members need a service: add a 'service Name' (or 'class Name') line before them",
    )
  }

  const checkType = (t: TypeRef, where: string): void => {
    switch (t.kind) {
      case 'primitive':
        return
      case 'list':
        checkType(t.element, where)
        return
      case 'optional':
        checkType(t.inner, where)
        return
      case 'map': {
        checkType(t.key, where)
        checkType(t.value, where)
        const k = t.key
        const keyDecl = k.kind === 'named' ? lookup(k.name) : undefined
        const ok =
          (k.kind === 'primitive' && (k.name === 'string' || isIntegerType(k.name))) ||
          keyDecl?.kind === 'enum'
        if (!ok && !(k.kind === 'named' && !keyDecl))
          diags.error(
            DiagnosticCode.BadMapKey,
            k.span,
            'a map key must be string, an integer type or an enum',
          )
        return
      }
      case 'named': {
        const decl = lookup(t.name)
        if (!decl) unknownType(t.name, t.span)
        else if (decl.kind === 'error')
          diags.error(
            DiagnosticCode.MisusedError,
            t.span,
            `'${t.name}' is an error; errors are thrown (throws ${t.name}), not used as ${where} types`,
          )
      }
    }
  }
  const unknownType = (name: string, span: Span): void => {
    const candidates = allNames().concat(Object.keys(PRIMITIVE_ALIASES))
    diags.error(DiagnosticCode.UnknownType, span, `unknown type '${name}'`, suggest(name, candidates))
  }

  const checkDefault = (type: TypeRef, lit: Literal): void => {
    const problem = defaultProblem(type, lit, lookup)
    if (problem) diags.error(problem.code, problem.span, problem.message, problem.suggestion)
  }

  for (const t of file.types) {
    switch (t.kind) {
      case 'model':
      case 'error':
        duplicates(
          diags,
          t.fields.map((f) => ({ name: f.name, span: f.nameSpan })),
          `field % of ${t.name}`,
        )
        for (const f of t.fields) {
          checkType(f.type, 'field')
          if (f.default) checkDefault(f.type, f.default)
        }
        break
      case 'enum':
        duplicates(
          diags,
          t.members.map((m) => ({ name: m.name, span: m.nameSpan })),
          `member % of enum ${t.name}`,
        )
        break
      case 'union':
        duplicates(
          diags,
          t.variants.map((v) => ({ name: v.name, span: v.nameSpan })),
          `variant % of union ${t.name}`,
        )
        for (const v of t.variants) checkType(v.type, 'variant')
        break
    }
  }
  for (const m of file.members) {
    if (m.kind === 'method' || m.kind === 'command' || m.kind === 'event') {
      duplicates(
        diags,
        m.params.map((p) => ({ name: p.name, span: p.nameSpan })),
        `parameter % of ${m.name}`,
      )
      for (const p of m.params) checkType(p.type, 'parameter')
    }
    if (m.kind === 'method') {
      if (m.result) checkType(m.result, 'result')
      for (const e of m.throws) {
        const decl = lookup(e.name)
        if (!decl) {
          const errors = [...new Set([...local.names(), ...table.names()])].filter(
            (n) => lookup(n)?.kind === 'error',
          )
          diags.error(
            DiagnosticCode.UnknownType,
            e.span,
            `unknown error '${e.name}'`,
            suggest(e.name, errors),
          )
        } else if (decl.kind !== 'error')
          diags.error(
            DiagnosticCode.ThrowsNonError,
            e.span,
            `'${e.name}' is a ${decl.kind}, not an error; declare it with 'error ${e.name} { … }'`,
          )
      }
    }
    if (m.kind === 'setting' || m.kind === 'status') checkType(m.type, m.kind)
    if (m.kind === 'setting' && m.default) checkDefault(m.type, m.default)
  }

  reservedNames(diags, file)
  infiniteModels(diags, file, lookup)
  sinceAfterVersion(diags, file)
  return diags.items
}

function duplicates(
  diags: DiagnosticBag,
  items: readonly { name: string; span: Span }[],
  what: string,
): void {
  const seen = new Map<string, Span>()
  for (const it of items) {
    const first = seen.get(it.name)
    if (first)
      diags.error(
        DiagnosticCode.Duplicate,
        it.span,
        `duplicate ${what.replace('%', `'${it.name}'`)} (first declared at line ${first.line}); rename or remove one`,
      )
    else seen.set(it.name, it.span)
  }
}

interface Problem {
  code: (typeof DiagnosticCode)[keyof typeof DiagnosticCode]
  span: Span
  message: string
  suggestion?: string
}

/** Why `lit` cannot be a default of `type`, or undefined when it fits. */
function defaultProblem(
  type: TypeRef,
  lit: Literal,
  lookup: (name: string) => TypeDecl | undefined,
): Problem | undefined {
  const bad = (message: string): Problem => ({ code: DiagnosticCode.BadDefault, span: lit.span, message })
  const shown = typeText(type)
  switch (type.kind) {
    case 'optional':
      return lit.kind === 'null' ? undefined : defaultProblem(type.inner, lit, lookup)
    case 'list':
      if (lit.kind !== 'list') return bad(`default of ${shown} must be a list such as [] or [a, b]`)
      for (const item of lit.items) {
        const p = defaultProblem(type.element, item, lookup)
        if (p) return p
      }
      return undefined
    case 'map':
      if (lit.kind !== 'map') return bad(`default of ${shown} must be a map such as {} or {"k": v}`)
      for (const e of lit.entries) {
        const p = defaultProblem(type.key, e.key, lookup) ?? defaultProblem(type.value, e.value, lookup)
        if (p) return p
      }
      return undefined
    case 'named': {
      const decl = lookup(type.name)
      if (!decl) return undefined // already reported as an unknown type
      if (decl.kind !== 'enum')
        return bad(`a ${decl.kind} field cannot have a default; make it optional instead`)
      if (lit.kind !== 'ident') return bad(`default of enum ${decl.name} must be one of its members`)
      const member = lit.name.startsWith(`${decl.name}.`) ? lit.name.slice(decl.name.length + 1) : lit.name
      if (decl.members.some((m) => m.name === member)) return undefined
      return {
        code: DiagnosticCode.BadDefault,
        span: lit.span,
        message: `'${lit.name}' is not a member of enum ${decl.name}`,
        suggestion: suggest(
          member,
          decl.members.map((m) => m.name),
        ),
      }
    }
    case 'primitive': {
      const name = type.name
      if (isIntegerType(name)) {
        if (lit.kind !== 'int') return bad(`default of ${name} must be an integer, found ${literalKind(lit)}`)
        const [lo, hi] = INTEGER_RANGES[name]!
        if (lit.value < lo || lit.value > hi)
          return {
            code: DiagnosticCode.IntegerRange,
            span: lit.span,
            message: `${lit.value} is out of range for ${name} (${lo}..${hi})`,
          }
        return undefined
      }
      switch (name) {
        case 'float32':
        case 'float64':
          return lit.kind === 'float' || lit.kind === 'int'
            ? undefined
            : bad(`default of ${name} must be a number, found ${literalKind(lit)}`)
        case 'bool':
          return lit.kind === 'bool'
            ? undefined
            : bad(`default of bool must be true or false, found ${literalKind(lit)}`)
        case 'string':
          return lit.kind === 'string'
            ? undefined
            : bad(`default of string must be a quoted string, found ${literalKind(lit)}`)
        case 'duration':
          return lit.kind === 'duration'
            ? undefined
            : bad(`default of duration must be a duration such as 5s or 250ms, found ${literalKind(lit)}`)
        case 'timestamp':
          return lit.kind === 'string' && !Number.isNaN(Date.parse(lit.value))
            ? undefined
            : bad('default of timestamp must be an ISO 8601 date in quotes, e.g. "2024-01-01T00:00:00Z"')
        default:
          return bad(`${name} fields cannot have a default`)
      }
    }
  }
}

function literalKind(lit: Literal): string {
  switch (lit.kind) {
    case 'int':
      return 'an integer'
    case 'float':
      return 'a number with a fraction'
    case 'string':
      return 'a string'
    case 'bool':
      return 'a boolean'
    case 'null':
      return 'null'
    case 'duration':
      return 'a duration'
    case 'ident':
      return `'${lit.name}'`
    case 'list':
      return 'a list'
    case 'map':
      return 'a map'
  }
}

/** A type as written in canonical form, for messages. */
export function typeText(t: TypeRef): string {
  switch (t.kind) {
    case 'primitive':
    case 'named':
      return t.name
    case 'list':
      return `${typeText(t.element)}[]`
    case 'optional':
      return `${typeText(t.inner)}?`
    case 'map':
      return `map<${typeText(t.key)}, ${typeText(t.value)}>`
  }
}

/** Reports models that contain themselves through required fields only: no value could ever be built. */
function infiniteModels(
  diags: DiagnosticBag,
  file: SpecFile,
  lookup: (n: string) => TypeDecl | undefined,
): void {
  const requiredModelRefs = (t: TypeDecl): string[] =>
    t.kind === 'model'
      ? t.fields.flatMap((f) =>
          f.type.kind === 'named' && lookup(f.type.name)?.kind === 'model' ? [f.type.name] : [],
        )
      : []
  for (const t of file.types) {
    if (t.kind !== 'model') continue
    const seen = new Set<string>()
    const stack = requiredModelRefs(t)
    while (stack.length > 0) {
      const n = stack.pop()!
      const decl = lookup(n)
      if (!decl || seen.has(decl.name)) continue
      if (decl === t) {
        diags.error(
          DiagnosticCode.InfiniteModel,
          t.nameSpan,
          `model ${t.name} contains itself through required fields; make one of them optional (T?) or a list`,
        )
        break
      }
      seen.add(decl.name)
      stack.push(...requiredModelRefs(decl))
    }
  }
}

function sinceAfterVersion(diags: DiagnosticBag, file: SpecFile): void {
  const version = file.version?.value ?? 1
  const all = [
    ...file.types,
    ...file.members,
    ...file.types.flatMap((t) => (t.kind === 'model' || t.kind === 'error' ? t.fields : [])),
  ]
  for (const d of all) {
    for (const a of d.annotations) {
      if (a.kind === 'since' && a.version > version)
        diags.error(
          DiagnosticCode.SinceAfterVersion,
          a.span,
          `@since(${a.version}) is after the service version ${version}; raise 'version' or lower @since`,
        )
    }
  }
}

/** Members of the generated client and server classes, which service members must not shadow. */
const RESERVED_MEMBERS = ['start', 'stop', 'bus', 'component', 'rpc', 'constructor']
/** Built-ins the generated TypeScript refers to, which a declaration must not shadow. */
const GLOBAL_NAMES = [
  'Array',
  'AsyncDisposable',
  'Boolean',
  'Date',
  'Error',
  'InstanceType',
  'Map',
  'Number',
  'Object',
  'Omit',
  'Partial',
  'Pick',
  'Promise',
  'Record',
  'String',
  'Symbol',
  'Uint8Array',
]

/** Fields every error already has (rpc-streams' RESERVED_ERROR_FIELDS). */
const RESERVED_ERROR_FIELDS = ['name', 'message', 'code', 'stack', 'cause', 'data']

function reservedNames(diags: DiagnosticBag, file: SpecFile): void {
  for (const m of file.members) {
    if (RESERVED_MEMBERS.includes(m.name))
      diags.error(
        DiagnosticCode.ReservedName,
        m.nameSpan,
        `'${m.name}' is reserved for the generated client and server classes; rename the ${m.kind}`,
      )
    else if (m.name.startsWith('_'))
      diags.error(
        DiagnosticCode.ReservedName,
        m.nameSpan,
        `member names starting with '_' are reserved; rename '${m.name}'`,
      )
  }
  for (const t of file.types) {
    if (t.kind !== 'error') continue
    for (const f of t.fields)
      if (RESERVED_ERROR_FIELDS.includes(f.name))
        diags.error(
          DiagnosticCode.ReservedName,
          f.nameSpan,
          `every error already has '${f.name}'; give the field of ${t.name} another name`,
        )
  }
  for (const t of file.types)
    if (GLOBAL_NAMES.includes(t.name))
      diags.error(
        DiagnosticCode.ReservedName,
        t.nameSpan,
        `'${t.name}' would hide the JavaScript built-in the generated code uses; rename the ${t.kind}`,
      )
  const service = file.service?.name
  if (service) {
    const generated = [
      '',
      'Client',
      'ClientOptions',
      'Server',
      'Component',
      'Socket',
      'Fingerprint',
      'Members',
    ].map((s) => service + s)
    for (const t of file.types)
      if (generated.includes(t.name))
        diags.error(
          DiagnosticCode.ReservedName,
          t.nameSpan,
          `'${t.name}' is a name the generator uses for service ${service}; rename the ${t.kind}`,
        )
  }
}
