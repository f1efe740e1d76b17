/**
 * The parser: tokens -> {@link SpecFile}. It never stops at the first error: a bad statement or
 * field is reported, the parser skips to the next line that can start one (`synchronize`), and
 * goes on, so one run reports every syntax error of a file.
 * @module
 */
import type {
  Annotation,
  CommandMember,
  EnumDecl,
  EnumMember,
  ErrorDecl,
  EventMember,
  Field,
  ImportDecl,
  Literal,
  Member,
  MethodMember,
  ModelDecl,
  NamedType,
  Param,
  ServiceDecl,
  SettingMember,
  Span,
  SpecFile,
  StatusMember,
  TypeDecl,
  TypeRef,
  UnionDecl,
  UnionVariant,
} from './ast.js'
import { type Diagnostic, DiagnosticBag, DiagnosticCode, sortDiagnostics, suggest } from './diagnostics.js'
import { primitiveFor } from './primitives.js'
import { scan, type Token, type TokenKind } from './scanner.js'

/** Keywords that start a top-level statement. */
export const STATEMENT_KEYWORDS = [
  'namespace',
  'service',
  'class',
  'version',
  'socket',
  'import',
  'model',
  'error',
  'exception',
  'enum',
  'union',
  'method',
  'stream',
  'command',
  'event',
  'setting',
  'status',
] as const

const ANNOTATIONS = ['since', 'deprecated', 'timeout']

/** The result of parsing one file: the tree (as complete as recovery allowed) and the problems. */
export interface ParseResult {
  readonly file: SpecFile
  readonly diagnostics: readonly Diagnostic[]
}

/** Thrown inside the parser to abandon the current statement; caught where recovery happens. */
class Bail extends Error {}

/**
 * Parses one `.unipc` file.
 * @param text - the file contents
 * @param path - the file name used in diagnostics
 */
export function parse(text: string, path = '<input>'): ParseResult {
  const diags = new DiagnosticBag(path)
  const tokens = scan(text, diags)
  const p = new Parser(tokens, diags, path)
  const file = p.parseFile()
  return { file, diagnostics: sortDiagnostics(diags.items) }
}

class Parser {
  #pos = 0
  constructor(
    private readonly tokens: readonly Token[],
    private readonly diags: DiagnosticBag,
    private readonly path: string,
  ) {}

  parseFile(): SpecFile {
    let namespace: SpecFile['namespace']
    let service: ServiceDecl | undefined
    let version: SpecFile['version']
    let socket: SpecFile['socket']
    const imports: ImportDecl[] = []
    const types: TypeDecl[] = []
    const members: Member[] = []

    while (this.peek.kind !== 'eof') {
      const startIndex = this.#pos
      try {
        const doc = this.peek.doc
        const annotations = this.parseAnnotations()
        const kw = this.peek
        if (kw.kind !== 'ident') {
          this.fail(
            kw.span,
            `expected a statement such as 'model', 'method' or 'event', found ${describe(kw)}`,
          )
        }
        switch (kw.text) {
          case 'namespace': {
            this.next()
            const name = this.dottedName('a namespace such as com.example.things')
            if (namespace) this.duplicateHeader('namespace', kw.span)
            else namespace = name
            break
          }
          case 'service':
          case 'class': {
            this.next()
            const name = this.ident('a service name')
            const decl: ServiceDecl = {
              kind: 'service',
              name: name.text,
              nameSpan: name.span,
              doc,
              annotations,
              span: this.spanFrom(kw.span),
            }
            if (service) this.duplicateHeader('service', kw.span)
            else service = decl
            break
          }
          case 'version': {
            this.next()
            const v = this.expect('int', 'a version number')
            const value = Number(v.value as bigint)
            if (value < 1 || value > 2 ** 31 - 1)
              this.diags.error(
                DiagnosticCode.BadNumber,
                v.span,
                `version must be 1..${2 ** 31 - 1}, not ${v.text}`,
              )
            if (version) this.duplicateHeader('version', kw.span)
            else version = { value, span: v.span }
            break
          }
          case 'socket': {
            this.next()
            const s = this.expect('string', 'the path of the socket')
            if (socket) this.duplicateHeader('socket', kw.span)
            else socket = { path: s.value as string, span: s.span }
            break
          }
          case 'import': {
            this.next()
            const s = this.expect('string', 'the path of the file to import, in quotes')
            imports.push({ kind: 'import', path: s.value as string, span: this.spanFrom(kw.span) })
            break
          }
          case 'model':
          case 'error':
          case 'exception':
          case 'enum':
          case 'union':
            types.push(this.parseTypeDecl(kw, doc, annotations))
            break
          case 'method':
          case 'stream':
          case 'command':
          case 'event':
          case 'setting':
          case 'status':
            members.push(this.parseMember(kw, doc, annotations))
            break
          default:
            this.fail(
              kw.span,
              `unknown statement '${kw.text}'; expected one of ${STATEMENT_KEYWORDS.join(', ')}`,
              suggest(kw.text, STATEMENT_KEYWORDS),
            )
        }
        this.skipSeparators()
      } catch (e) {
        if (!(e instanceof Bail)) throw e
        this.synchronizeStatement(startIndex)
      }
    }
    return { kind: 'file', path: this.path, namespace, service, version, socket, imports, types, members }
  }

  // ---- declarations -------------------------------------------------------------------------

  private parseTypeDecl(kw: Token, doc: string | undefined, annotations: Annotation[]): TypeDecl {
    this.next()
    const name = this.ident(`a name for the ${kw.text}`)
    const base = { doc, annotations, name: name.text, nameSpan: name.span }
    switch (kw.text) {
      case 'model': {
        const fields = this.parseBody('{', () => this.parseField())
        return { kind: 'model', ...base, fields, span: this.spanFrom(kw.span) } satisfies ModelDecl
      }
      case 'error':
      case 'exception': {
        // LibMedium's `exception Name` has no body; fields are optional.
        const fields = this.peek.kind === '{' ? this.parseBody('{', () => this.parseField()) : []
        return { kind: 'error', ...base, fields, span: this.spanFrom(kw.span) } satisfies ErrorDecl
      }
      case 'enum': {
        const members = this.parseBody('{', () => this.parseEnumMember())
        return { kind: 'enum', ...base, members, span: this.spanFrom(kw.span) } satisfies EnumDecl
      }
      default: {
        const variants = this.parseBody('{', () => this.parseVariant())
        return { kind: 'union', ...base, variants, span: this.spanFrom(kw.span) } satisfies UnionDecl
      }
    }
  }

  /**
   * Parses `{ item* }`. A bad item is reported and skipped up to the next line, so one broken field
   * does not hide the others. A statement keyword at the start of a line ends an unclosed body.
   */
  private parseBody<T>(open: '{', item: () => T): T[] {
    this.expect(open, "'{'")
    const items: T[] = []
    while (this.peek.kind !== '}') {
      if (this.peek.kind === 'eof' || this.startsStatement()) {
        this.report(this.peek.span, `expected '}' to close the block, found ${describe(this.peek)}`)
        return items
      }
      const start = this.#pos
      try {
        items.push(item())
        this.skipSeparators()
      } catch (e) {
        if (!(e instanceof Bail)) throw e
        this.synchronizeItem(start)
      }
    }
    this.next()
    return items
  }

  private parseField(): Field {
    const doc = this.peek.doc
    const start = this.peek.span
    const annotations = this.parseAnnotations()
    const name = this.ident('a field name')
    this.expect(':', `':' and the type of field '${name.text}'`)
    const type = this.parseType()
    const def = this.accept('=') ? this.parseLiteral() : undefined
    return {
      kind: 'field',
      doc,
      annotations,
      name: name.text,
      nameSpan: name.span,
      type,
      default: def,
      span: this.spanFrom(start),
    }
  }

  private parseEnumMember(): EnumMember {
    const doc = this.peek.doc
    const name = this.ident('an enum member name')
    return { kind: 'enumMember', doc, name: name.text, nameSpan: name.span, span: name.span }
  }

  private parseVariant(): UnionVariant {
    const doc = this.peek.doc
    const name = this.ident('a variant tag')
    this.expect(':', `':' and the type of variant '${name.text}'`)
    const type = this.parseType()
    return {
      kind: 'variant',
      doc,
      name: name.text,
      nameSpan: name.span,
      type,
      span: this.spanFrom(name.span),
    }
  }

  private parseMember(kw: Token, doc: string | undefined, annotations: Annotation[]): Member {
    this.next()
    let stream = false
    let keyword = kw.text
    if (keyword === 'stream') {
      stream = true
      const m = this.ident("'method' after 'stream'")
      if (m.text !== 'method') this.fail(m.span, `expected 'method' after 'stream', found '${m.text}'`)
      keyword = 'method'
    }
    const name = this.ident(`a name for the ${keyword}`)
    const base = { doc, annotations, name: name.text, nameSpan: name.span }
    switch (keyword) {
      case 'method': {
        const params = this.parseParams(true)
        const result = this.accept(':') ? this.parseType() : undefined
        const throws: NamedType[] = []
        if (this.peek.kind === 'ident' && this.peek.text === 'throws') {
          this.next()
          do {
            const t = this.dottedName('an error name')
            throws.push({ kind: 'named', name: t.name, span: t.span })
          } while (this.accept(','))
        }
        return {
          kind: 'method',
          ...base,
          stream,
          params,
          result,
          throws,
          span: this.spanFrom(kw.span),
        } satisfies MethodMember
      }
      case 'command':
        return {
          kind: 'command',
          ...base,
          params: this.parseParams(false),
          span: this.spanFrom(kw.span),
        } satisfies CommandMember
      case 'event':
        return {
          kind: 'event',
          ...base,
          params: this.parseParams(false),
          span: this.spanFrom(kw.span),
        } satisfies EventMember
      case 'setting': {
        this.expect(':', `':' and the type of setting '${name.text}'`)
        const type = this.parseType()
        const def = this.accept('=') ? this.parseLiteral() : undefined
        return {
          kind: 'setting',
          ...base,
          type,
          default: def,
          span: this.spanFrom(kw.span),
        } satisfies SettingMember
      }
      default: {
        this.expect(':', `':' and the type of status '${name.text}'`)
        const type = this.parseType()
        return { kind: 'status', ...base, type, span: this.spanFrom(kw.span) } satisfies StatusMember
      }
    }
  }

  /** `(name: type, …)`; the parentheses may be left out of commands and events without parameters. */
  private parseParams(required: boolean): Param[] {
    if (!required && this.peek.kind !== '(') return []
    this.expect('(', "'(' and the parameters")
    const params: Param[] = []
    while (this.peek.kind !== ')') {
      const name = this.ident("a parameter name or ')'")
      this.expect(':', `':' and the type of parameter '${name.text}'`)
      const type = this.parseType()
      params.push({
        kind: 'param',
        name: name.text,
        nameSpan: name.span,
        type,
        span: this.spanFrom(name.span),
      })
      if (!this.accept(',')) break
    }
    this.expect(')', "',' or ')'")
    return params
  }

  // ---- types --------------------------------------------------------------------------------

  /** A type with its suffixes: `T`, `T[]`, `T?`, `*T`, `map<K, V>`. */
  parseType(): TypeRef {
    const start = this.peek.span
    let t = this.parsePrimaryType()
    for (;;) {
      if (this.peek.kind === '[') {
        this.next()
        this.expect(']', "']' (a list is written T[])")
        t = { kind: 'list', element: t, span: this.spanFrom(start) }
      } else if (this.peek.kind === '?') {
        const q = this.next()
        if (t.kind === 'optional') this.report(q.span, "a type is optional once; remove the second '?'")
        else t = { kind: 'optional', inner: t, span: this.spanFrom(start) }
      } else return t
    }
  }

  private parsePrimaryType(): TypeRef {
    const tok = this.peek
    if (tok.kind === '*') {
      // LibMedium's list spelling: *T is T[].
      this.next()
      const element = this.parsePrimaryType()
      return { kind: 'list', element, span: this.spanFrom(tok.span) }
    }
    if (tok.kind !== 'ident') this.fail(tok.span, `expected a type, found ${describe(tok)}`)
    if (tok.text === 'map' && this.peekAt(1).kind === '<') {
      this.next()
      this.next()
      const key = this.parseType()
      this.expect(',', "',' between the key and value types of map<K, V>")
      const value = this.parseType()
      this.expect('>', "'>' to close map<K, V>")
      return { kind: 'map', key, value, span: this.spanFrom(tok.span) }
    }
    const prim = primitiveFor(tok.text)
    if (prim) {
      this.next()
      return { kind: 'primitive', name: prim, span: tok.span }
    }
    const name = this.dottedName('a type')
    return { kind: 'named', name: name.name, span: name.span }
  }

  // ---- literals and annotations -------------------------------------------------------------

  parseLiteral(): Literal {
    const tok = this.peek
    switch (tok.kind) {
      case '-': {
        this.next()
        const n = this.peek
        if (n.kind === 'int') {
          this.next()
          return { kind: 'int', value: -(n.value as bigint), span: this.spanFrom(tok.span) }
        }
        if (n.kind === 'float') {
          this.next()
          return { kind: 'float', value: -(n.value as number), span: this.spanFrom(tok.span) }
        }
        return this.fail(n.span, `expected a number after '-', found ${describe(n)}`)
      }
      case 'int':
        this.next()
        return { kind: 'int', value: tok.value as bigint, span: tok.span }
      case 'float':
        this.next()
        return { kind: 'float', value: tok.value as number, span: tok.span }
      case 'duration':
        this.next()
        return { kind: 'duration', ms: tok.value as number, span: tok.span }
      case 'string':
        this.next()
        return { kind: 'string', value: tok.value as string, span: tok.span }
      case '[': {
        this.next()
        const items: Literal[] = []
        while (this.peek.kind !== ']') {
          items.push(this.parseLiteral())
          if (!this.accept(',')) break
        }
        this.expect(']', "',' or ']'")
        return { kind: 'list', items, span: this.spanFrom(tok.span) }
      }
      case '{': {
        this.next()
        const entries: { key: Literal; value: Literal }[] = []
        while (this.peek.kind !== '}') {
          const key = this.parseLiteral()
          this.expect(':', "':' between a map key and its value")
          entries.push({ key, value: this.parseLiteral() })
          if (!this.accept(',')) break
        }
        this.expect('}', "',' or '}'")
        return { kind: 'map', entries, span: this.spanFrom(tok.span) }
      }
      case 'ident': {
        if (tok.text === 'true' || tok.text === 'false') {
          this.next()
          return { kind: 'bool', value: tok.text === 'true', span: tok.span }
        }
        if (tok.text === 'null') {
          this.next()
          return { kind: 'null', span: tok.span }
        }
        const name = this.dottedName('a value')
        return { kind: 'ident', name: name.name, span: name.span }
      }
      default:
        return this.fail(
          tok.span,
          `expected a value (number, string, true/false, enum member, [ ] or { }), found ${describe(tok)}`,
        )
    }
  }

  private parseAnnotations(): Annotation[] {
    const out: Annotation[] = []
    while (this.peek.kind === '@') {
      const at = this.next()
      const name = this.ident('an annotation name (since, deprecated, timeout)')
      let arg: Literal | undefined
      if (this.accept('(')) {
        arg = this.parseLiteral()
        this.expect(')', "')'")
      }
      const span = this.spanFrom(at.span)
      const bad = (msg: string): void =>
        this.diags.error(DiagnosticCode.BadAnnotation, arg?.span ?? name.span, msg)
      switch (name.text) {
        case 'since':
          if (arg?.kind === 'int' && arg.value >= 1n)
            out.push({ kind: 'since', version: Number(arg.value), span })
          else bad('@since takes a version number: @since(2)')
          break
        case 'deprecated':
          if (arg === undefined || arg.kind === 'string')
            out.push({ kind: 'deprecated', reason: arg?.kind === 'string' ? arg.value : undefined, span })
          else bad('@deprecated takes an optional reason in quotes: @deprecated("use get_student_v2")')
          break
        case 'timeout':
          if (arg?.kind === 'duration' && arg.ms > 0) out.push({ kind: 'timeout', ms: arg.ms, span })
          else if (arg?.kind === 'int' && arg.value > 0n)
            out.push({ kind: 'timeout', ms: Number(arg.value), span })
          else bad('@timeout takes a positive duration: @timeout(5s), @timeout(250ms)')
          break
        default:
          this.diags.error(
            DiagnosticCode.BadAnnotation,
            name.span,
            `unknown annotation '@${name.text}'; known: @since, @deprecated, @timeout`,
            suggest(name.text, ANNOTATIONS),
          )
      }
    }
    return out
  }

  // ---- token helpers ------------------------------------------------------------------------

  private get peek(): Token {
    return this.tokens[this.#pos]!
  }
  private peekAt(n: number): Token {
    return this.tokens[Math.min(this.#pos + n, this.tokens.length - 1)]!
  }
  private next(): Token {
    const t = this.peek
    if (t.kind !== 'eof') this.#pos++
    return t
  }
  private accept(kind: TokenKind): boolean {
    if (this.peek.kind !== kind) return false
    this.next()
    return true
  }
  private expect(kind: TokenKind, what: string): Token {
    if (this.peek.kind === kind) return this.next()
    return this.fail(this.expectedSpan(), `expected ${what}, found ${describe(this.peek)}`)
  }
  private ident(what: string): Token {
    return this.expect('ident', what)
  }
  private dottedName(what: string): { name: string; span: Span } {
    const first = this.ident(what)
    let name = first.text
    while (this.peek.kind === '.' && this.peekAt(1).kind === 'ident') {
      this.next()
      name += `.${this.next().text}`
    }
    return { name, span: this.spanFrom(first.span) }
  }
  private skipSeparators(): void {
    while (this.peek.kind === ',' || this.peek.kind === ';') this.next()
  }

  /** The span from `start` to the end of the last consumed token. */
  private spanFrom(start: Span): Span {
    const last = this.tokens[Math.max(0, this.#pos - 1)]!
    const end = last.span.offset + last.span.length
    return { ...start, length: Math.max(1, end - start.offset) }
  }

  /**
   * Where to point when something is missing: at the current token, or just after the previous
   * token when the current one is already on a later line (a missing ')' belongs to its own line).
   */
  private expectedSpan(): Span {
    const cur = this.peek
    const prev = this.tokens[this.#pos - 1]
    if (prev && (cur.kind === 'eof' || cur.span.line > prev.span.line)) {
      return {
        line: prev.span.line,
        col: prev.span.col + prev.span.length,
        offset: prev.span.offset + prev.span.length,
        length: 1,
      }
    }
    return cur.span
  }

  /** True when the current token is a statement keyword at the start of its line (and not a field). */
  private startsStatement(): boolean {
    const t = this.peek
    if (t.kind === 'eof') return true
    if (t.kind !== 'ident' || !(STATEMENT_KEYWORDS as readonly string[]).includes(t.text)) return false
    const prev = this.tokens[this.#pos - 1]
    const lineStart = prev === undefined || prev.span.line < t.span.line
    // A statement keyword is followed on its own line by a name, a version or a path; an enum member
    // or field that happens to be spelled like a keyword is not.
    const next = this.peekAt(1)
    const sameLine = next.span.line === t.span.line
    return lineStart && sameLine && (next.kind === 'ident' || next.kind === 'int' || next.kind === 'string')
  }

  private report(span: Span, message: string, suggestion?: string): void {
    this.diags.error(DiagnosticCode.Expected, span, message, suggestion)
  }
  private fail(span: Span, message: string, suggestion?: string): never {
    const code = message.startsWith('unknown statement')
      ? DiagnosticCode.UnknownStatement
      : DiagnosticCode.Expected
    this.diags.error(code, span, message, suggestion)
    throw new Bail()
  }
  private duplicateHeader(what: string, span: Span): void {
    this.diags.error(DiagnosticCode.DuplicateHeader, span, `'${what}' given twice; a file has one ${what}`)
  }

  /** After a bad top-level statement: skip to the next statement start (braced blocks skipped whole). */
  private synchronizeStatement(startIndex: number): void {
    if (this.#pos === startIndex) this.next()
    let depth = 0
    while (this.peek.kind !== 'eof') {
      const k = this.peek.kind
      if (depth === 0 && (this.startsStatement() || (k === '@' && this.atLineStart()))) return
      if (k === '{') depth++
      else if (k === '}') depth = Math.max(0, depth - 1)
      this.next()
    }
  }

  /** After a bad item in a body: skip to the next line, '}' or separator. */
  private synchronizeItem(startIndex: number): void {
    const errLine = this.tokens[Math.max(startIndex, this.#pos - 1)]!.span.line
    if (this.#pos === startIndex && this.peek.kind !== '}' && !this.startsStatement()) this.next()
    while (this.peek.kind !== 'eof' && this.peek.kind !== '}') {
      if (this.peek.kind === ',' || this.peek.kind === ';') {
        this.next()
        return
      }
      if (this.peek.span.line > errLine || this.startsStatement()) return
      this.next()
    }
  }

  private atLineStart(): boolean {
    const prev = this.tokens[this.#pos - 1]
    return prev === undefined || prev.span.line < this.peek.span.line
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file'
  if (t.kind === 'ident') return `'${t.text}'`
  if (t.kind === 'string') return 'a string'
  if (t.kind === 'int' || t.kind === 'float' || t.kind === 'duration') return `'${t.text}'`
  return `'${t.kind}'`
}
