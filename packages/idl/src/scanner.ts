/**
 * The scanner: turns `.unipc` text into tokens. Whitespace and newlines are insignificant; `//` and
 * `/* *\/` comments are skipped; `///` doc comments are attached to the next token. Bad characters are
 * reported and skipped, so scanning always reaches the end of the file.
 * @module
 */
import type { Span } from './ast.js'
import { type DiagnosticBag, DiagnosticCode } from './diagnostics.js'

/** Token kinds. Keywords are identifiers: the parser recognises them by context. */
export type TokenKind =
  | 'ident'
  | 'int'
  | 'float'
  | 'duration'
  | 'string'
  | '{'
  | '}'
  | '('
  | ')'
  | '['
  | ']'
  | '<'
  | '>'
  | ','
  | ';'
  | ':'
  | '='
  | '?'
  | '*'
  | '@'
  | '.'
  | '-'
  | 'eof'

/** One token with its text, decoded value and location. */
export interface Token {
  readonly kind: TokenKind
  /** The source text of the token. */
  readonly text: string
  /** Decoded value: string contents, integer as bigint, float as number, duration in ms. */
  readonly value?: string | bigint | number
  readonly span: Span
  /** The `///` comment lines right before this token. */
  readonly doc: string | undefined
}

const PUNCT = new Set('{}()[]<>,;:=?*@.-')
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Scans a whole file.
 * @param text - file contents
 * @param diags - where lexical errors go
 */
export function scan(text: string, diags: DiagnosticBag): Token[] {
  const tokens: Token[] = []
  let i = 0
  let line = 1
  let lineStart = 0
  let doc: string[] = []
  const span = (start: number, startLine: number, startLineStart: number): Span => ({
    line: startLine,
    col: start - startLineStart + 1,
    offset: start,
    length: Math.max(1, i - start),
  })
  const push = (kind: TokenKind, start: number, value?: string | bigint | number): void => {
    const t: Token = {
      kind,
      text: text.slice(start, i),
      span: span(start, line, lineStart),
      doc: doc.length > 0 ? doc.join('\n') : undefined,
    }
    tokens.push(value === undefined ? t : { ...t, value })
    doc = []
  }

  while (i < text.length) {
    const c = text[i]!
    if (c === '\n') {
      i++
      line++
      lineStart = i
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++
      continue
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i)
      const stop = end < 0 ? text.length : end
      if (text[i + 2] === '/' && text[i + 3] !== '/') {
        // `///` doc line: keep its text (one leading space dropped) for the next declaration.
        let body = text.slice(i + 3, stop).replace(/\r$/, '')
        if (body.startsWith(' ')) body = body.slice(1)
        doc.push(body)
      }
      i = stop
      continue
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      const stop = end < 0 ? text.length : end + 2
      for (let k = i; k < stop; k++) {
        if (text[k] === '\n') {
          line++
          lineStart = k + 1
        }
      }
      i = stop
      continue
    }
    const start = i
    if (isIdentStart(c)) {
      while (i < text.length && isIdentPart(text[i]!)) i++
      push('ident', start)
      if (text.slice(start, i) === 'socket' && start === firstNonBlank(lineStart)) scanRawLine()
      continue
    }
    if (isDigit(c)) {
      scanNumber(start)
      continue
    }
    if (c === '"' || c === "'") {
      scanString(start, c)
      continue
    }
    if (PUNCT.has(c)) {
      i++
      push(c as TokenKind, start)
      continue
    }
    i++
    diags.error(
      DiagnosticCode.UnexpectedChar,
      span(start, line, lineStart),
      `unexpected character '${c}'; remove it`,
    )
  }
  const end = i
  tokens.push({ kind: 'eof', text: '', span: span(end, line, lineStart), doc: undefined })
  return tokens

  function firstNonBlank(from: number): number {
    let k = from
    while (text[k] === ' ' || text[k] === '\t') k++
    return k
  }

  /**
   * LibMedium's `socket /run/x.sock` takes the rest of the line unquoted. Scan it as one string token
   * (unless it is quoted, or the line is a field or list item named `socket`).
   */
  function scanRawLine(): void {
    let k = i
    while (text[k] === ' ' || text[k] === '\t') k++
    const end = text.indexOf('\n', k)
    const stop = end < 0 ? text.length : end
    const raw = text.slice(k, stop).replace(/\s+$/, '')
    if (raw === '' || /^["':,;}(?=]/.test(raw) || raw.startsWith('//')) return
    i = k + raw.length
    push('string', k, raw)
  }

  function scanNumber(start: number): void {
    if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i += 2
      while (i < text.length && /[0-9a-fA-F_]/.test(text[i]!)) i++
      const digits = text.slice(start + 2, i).replaceAll('_', '')
      if (digits === '') {
        diags.error(
          DiagnosticCode.BadNumber,
          span(start, line, lineStart),
          "malformed number: '0x' needs hex digits",
        )
        push('int', start, 0n)
        return
      }
      finishInt(start, `0x${digits}`)
      return
    }
    while (i < text.length && (isDigit(text[i]!) || text[i] === '_')) i++
    let isFloat = false
    if (text[i] === '.' && isDigit(text[i + 1] ?? '')) {
      isFloat = true
      i++
      while (i < text.length && (isDigit(text[i]!) || text[i] === '_')) i++
    }
    if ((text[i] === 'e' || text[i] === 'E') && /[-+0-9]/.test(text[i + 1] ?? '')) {
      isFloat = true
      i += 2
      const expStart = i
      while (i < text.length && isDigit(text[i]!)) i++
      if (i === expStart && !isDigit(text[i - 1]!)) {
        diags.error(
          DiagnosticCode.BadNumber,
          span(start, line, lineStart),
          'malformed number: the exponent needs digits',
        )
        push('float', start, 0)
        return
      }
    }
    const numText = text.slice(start, i).replaceAll('_', '')
    // A unit right after the number makes a duration: 250ms, 5s, 2m, 1h.
    const unitMatch = /^(ms|s|m|h)(?![A-Za-z0-9_])/.exec(text.slice(i, i + 3))
    if (unitMatch) {
      i += unitMatch[1]!.length
      push('duration', start, Number(numText) * DURATION_UNITS[unitMatch[1]!]!)
      return
    }
    if (i < text.length && isIdentPart(text[i]!)) {
      while (i < text.length && isIdentPart(text[i]!)) i++
      diags.error(
        DiagnosticCode.BadNumber,
        span(start, line, lineStart),
        `malformed number '${text.slice(start, i)}'; durations take ms, s, m or h`,
      )
      push('int', start, 0n)
      return
    }
    if (isFloat) push('float', start, Number(numText))
    else finishInt(start, numText)
  }

  function finishInt(start: number, digits: string): void {
    push('int', start, BigInt(digits))
  }

  function scanString(start: number, quote: string): void {
    const startLine = line
    const startLineStart = lineStart
    i++
    let out = ''
    while (i < text.length && text[i] !== quote && text[i] !== '\n') {
      if (text[i] === '\\') {
        const e = text[i + 1]
        const map: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          '"': '"',
          "'": "'",
          '0': '\0',
        }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16))
          i += 6
          continue
        }
        out += e !== undefined && map[e] !== undefined ? map[e] : (e ?? '')
        i += 2
        continue
      }
      out += text[i]
      i++
    }
    if (text[i] !== quote) {
      diags.error(
        DiagnosticCode.UnterminatedString,
        span(start, startLine, startLineStart),
        `unterminated string; close it with ${quote} on the same line`,
      )
    } else i++
    push('string', start, out)
  }
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_'
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c)
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9'
}
