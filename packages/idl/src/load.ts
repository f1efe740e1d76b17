/**
 * Loads a spec file and the files it imports (transitively), parses and checks them all, and
 * collects every diagnostic.
 * @module
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import type { SpecFile } from './ast.js'
import { check } from './check.js'
import { type Diagnostic, DiagnosticCode, sortDiagnostics } from './diagnostics.js'
import { parse } from './parser.js'

/** A spec with its imports, ready for the generator when `diagnostics` holds no error. */
export interface LoadedSpec {
  /** The file that was asked for. */
  readonly root: SpecFile
  /** Every file it imports, directly or not, keyed by path. */
  readonly files: ReadonlyMap<string, SpecFile>
  /** The text of every file read, keyed by path (for printing diagnostics). */
  readonly sources: ReadonlyMap<string, string>
  /** Problems in the root and the imported files. */
  readonly diagnostics: readonly Diagnostic[]
}

/** How the loader reads files (replaceable for tests and editors). */
export type ReadFile = (path: string) => string

/**
 * Loads, parses and checks `path` and everything it imports.
 * @param path - the spec file
 * @param read - file reader (defaults to the file system)
 */
export function loadSpec(path: string, read: ReadFile = (p) => readFileSync(p, 'utf8')): LoadedSpec {
  const files = new Map<string, SpecFile>()
  const sources = new Map<string, string>()
  const diagnostics: Diagnostic[] = []

  const inProgress: string[] = []
  const moduleOf = new Map<string, string>()
  const visit = (p: string): SpecFile | undefined => {
    const known = files.get(p)
    if (known) return known
    let text: string
    try {
      text = read(p)
    } catch {
      return undefined
    }
    sources.set(p, text)
    const parsed = parse(text, p)
    files.set(p, parsed.file)
    diagnostics.push(...parsed.diagnostics)
    inProgress.push(p)
    const imported: SpecFile[] = []
    for (const imp of parsed.file.imports) {
      const target = normalize(join(dirname(p), imp.path))
      const error = (code: Diagnostic['code'], message: string): void => {
        diagnostics.push({ severity: 'error', code, message, file: p, span: imp.span })
      }
      if (inProgress.includes(target)) {
        // Generated modules would import each other and read constants before they exist.
        const cycle = [...inProgress.slice(inProgress.indexOf(target)), target].map((x) => basename(x))
        error(
          DiagnosticCode.ImportCycle,
          `import cycle ${cycle.join(' -> ')}; move the shared declarations into a file both import`,
        )
        continue
      }
      const module = basename(target).replace(/\.[^.]+$/, '')
      const other = moduleOf.get(module)
      if (other !== undefined && other !== target) {
        error(
          DiagnosticCode.ModuleClash,
          `${target} and ${other} would both generate ${module}.ts; rename one of the files`,
        )
        continue
      }
      moduleOf.set(module, target)
      const f = visit(target)
      if (f) imported.push(f)
      else
        diagnostics.push({
          severity: 'error',
          code: DiagnosticCode.ImportNotFound,
          message: `cannot read imported file '${imp.path}' (looked for ${target})`,
          file: p,
          span: imp.span,
        })
    }
    inProgress.pop()
    diagnostics.push(...check(parsed.file, imported))
    return parsed.file
  }

  moduleOf.set(basename(path).replace(/\.[^.]+$/, ''), path)
  const root = visit(path)
  if (!root) throw new Error(`cannot read spec file ${path}`)
  files.delete(path)
  return { root, files, sources, diagnostics: sortDiagnostics(diagnostics) }
}

function normalize(p: string): string {
  const rel = relative(process.cwd(), p)
  return rel.startsWith('..') ? p : rel || p
}

/** True when any diagnostic is an error (warnings do not stop generation). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}
