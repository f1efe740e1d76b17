/**
 * Name resolution for the generator: which declaration a type name means, which spec file holds
 * it, and which generated module exports it.
 * @module
 */
import { basename } from 'node:path'
import type { MethodMember, SpecFile, TypeDecl } from '../ast.js'
import type { LoadedSpec } from '../load.js'

/** A declaration and the file it is declared in. */
export interface Resolved {
  readonly decl: TypeDecl
  readonly file: SpecFile
}

/** The module a spec file generates: its file name without extension (`student.unipc`, `student.lmspc` -> `student`). */
export function moduleName(file: SpecFile): string {
  return basename(file.path).replace(/\.[^.]+$/, '')
}

/** Resolves type names for one root file and everything it imports. */
export class Scope {
  readonly #byName = new Map<string, Resolved>()

  constructor(
    readonly root: SpecFile,
    imported: Iterable<SpecFile>,
  ) {
    for (const f of imported) this.#add(f)
    // Local declarations win over imported ones of the same name.
    this.#add(root)
  }

  /** Builds the scope of a loaded spec. */
  static of(spec: LoadedSpec): Scope {
    return new Scope(spec.root, spec.files.values())
  }

  #add(file: SpecFile): void {
    for (const decl of file.types) {
      this.#byName.set(decl.name, { decl, file })
      if (file.namespace) this.#byName.set(`${file.namespace.name}.${decl.name}`, { decl, file })
    }
  }

  /** The declaration `name` refers to. Throws for unknown names (the checker reports them first). */
  resolve(name: string): Resolved {
    const r = this.#byName.get(name)
    if (!r) throw new Error(`unknown type '${name}' (run the checker first)`)
    return r
  }

  /** True when `name` is declared in the root file. */
  isLocal(r: Resolved): boolean {
    return r.file === this.root
  }

  /** Every declaration of a kind, across the root and its imports, each once. */
  all(): Resolved[] {
    return [...new Set(this.#byName.values())]
  }
}

/**
 * The errors a method may throw: its `throws` list, or (LibMedium's rule, when it has none) every
 * error declared in its own file.
 */
export function errorsOf(m: MethodMember, file: SpecFile): string[] {
  if (m.throws.length > 0) return m.throws.map((e) => e.name)
  return file.types.filter((t) => t.kind === 'error').map((t) => t.name)
}
