/**
 * Diagnostics: every problem found in a spec, with its location, a stable code and a message that
 * says what to do. Formatted like a compiler (`file:line:col: error[CODE]: message`, the source line,
 * a caret under the token) or as JSON for tools.
 * @module
 */
import type { Span } from './ast.js'

/** Stable diagnostic codes; the README lists them. */
export const DiagnosticCode = {
  /** A character that cannot start any token. */
  UnexpectedChar: 'E001',
  /** A string literal without its closing quote. */
  UnterminatedString: 'E002',
  /** A malformed number or duration literal. */
  BadNumber: 'E003',
  /** The parser expected something else here. */
  Expected: 'E010',
  /** A statement that does not start with a known keyword. */
  UnknownStatement: 'E011',
  /** An annotation that is not `@since`, `@deprecated` or `@timeout`, or has a bad argument. */
  BadAnnotation: 'E012',
  /** Two declarations, members, fields, params, enum members or variants with the same name. */
  Duplicate: 'E020',
  /** A type name that is neither a primitive nor declared. */
  UnknownType: 'E021',
  /** A default value that does not fit its type. */
  BadDefault: 'E022',
  /** `throws` names something that is not an `error`. */
  ThrowsNonError: 'E023',
  /** An integer default outside the range of its type. */
  IntegerRange: 'E024',
  /** A map key that is not string, an integer type or an enum. */
  BadMapKey: 'E025',
  /** `namespace`, `service` or `version` given twice. */
  DuplicateHeader: 'E026',
  /** An imported file that cannot be read. */
  ImportNotFound: 'E027',
  /** Members without a `service` (or `class`) line. */
  MissingService: 'E028',
  /** An error used as a field, parameter or result type, or a model used in `throws`. */
  MisusedError: 'E029',
  /** A model that contains itself without a list, map or optional in between (it could never be built). */
  InfiniteModel: 'E030',
  /** An `@since` greater than the service version. */
  SinceAfterVersion: 'E031',
  /** A name the generated code or the runtime reserves (member `start`, error field `message`…). */
  ReservedName: 'E032',
  /** Spec files that import each other, directly or not. */
  ImportCycle: 'E033',
  /** Two spec files with the same name (they would generate the same module). */
  ModuleClash: 'E034',
} as const

/** One of {@link DiagnosticCode}'s values. */
export type DiagnosticCodeValue = (typeof DiagnosticCode)[keyof typeof DiagnosticCode]

/** A problem found in a spec. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning'
  readonly code: DiagnosticCodeValue
  readonly message: string
  /** The file the problem is in (as given to the parser). */
  readonly file: string
  readonly span: Span
  /** A near-miss suggestion, printed as `did you mean 'x'?`. */
  readonly suggestion?: string
}

/** Collects diagnostics of one file. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = []
  constructor(readonly file: string) {}

  /** Records an error at `span`. */
  error(code: DiagnosticCodeValue, span: Span, message: string, suggestion?: string): void {
    const d: Diagnostic = { severity: 'error', code, message, file: this.file, span }
    this.items.push(suggestion === undefined ? d : { ...d, suggestion })
  }

  /** Records a warning at `span`. */
  warning(code: DiagnosticCodeValue, span: Span, message: string): void {
    this.items.push({ severity: 'warning', code, message, file: this.file, span })
  }
}

/** Sorts diagnostics by file (first appearance kept) and position, so they read top to bottom. */
export function sortDiagnostics(items: readonly Diagnostic[]): Diagnostic[] {
  const fileOrder = new Map<string, number>()
  for (const d of items) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size)
  return [...items].sort(
    (a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.span.offset - b.span.offset,
  )
}

/**
 * Formats one diagnostic for a terminal: location, code, message, the source line and a caret.
 * @param d - the diagnostic
 * @param source - the text of `d.file` (omit to print the first line only)
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const head = `${d.file}:${d.span.line}:${d.span.col}: ${d.severity}[${d.code}]: ${d.message}`
  const hint = d.suggestion === undefined ? '' : `\n  = help: did you mean '${d.suggestion}'?`
  if (source === undefined) return head + hint
  const lineText = source.split(/\r?\n/)[d.span.line - 1] ?? ''
  const gutter = String(d.span.line)
  const pad = ' '.repeat(gutter.length)
  const width = Math.max(1, Math.min(d.span.length, lineText.length - d.span.col + 1))
  const caret = ' '.repeat(Math.max(0, d.span.col - 1)) + '^'.repeat(width)
  return `${head}\n${pad} |\n${gutter} | ${lineText}\n${pad} | ${caret}${hint}`
}

/** The JSON shape of a diagnostic for `--format json`. */
export interface DiagnosticJson {
  file: string
  line: number
  column: number
  endColumn: number
  severity: 'error' | 'warning'
  code: string
  message: string
  suggestion?: string
}

/** Converts a diagnostic to its JSON form (for `--format json`). */
export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const out: DiagnosticJson = {
    file: d.file,
    line: d.span.line,
    column: d.span.col,
    endColumn: d.span.col + d.span.length,
    severity: d.severity,
    code: d.code,
    message: d.message,
  }
  if (d.suggestion !== undefined) out.suggestion = d.suggestion
  return out
}

/**
 * The candidate closest to `name` by edit distance, if close enough to be a plausible typo
 * (at most a third of the name's length, minimum 1, and case-insensitive equality always counts).
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  const limit = Math.max(1, Math.floor(name.length / 3))
  for (const c of candidates) {
    if (c === name) continue
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

function editDistance(a: string, b: string): number {
  // Damerau-Levenshtein (optimal string alignment): transpositions count as one edit.
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols).fill(0)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1)
      d[i * cols + j] = v
    }
  }
  return d[rows * cols - 1]!
}
