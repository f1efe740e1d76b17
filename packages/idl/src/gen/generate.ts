/**
 * The generator: a loaded spec -> one TypeScript module per spec file (the root and every file it
 * imports), each written through a {@link GeneratedFile} that manages its imports.
 * @module
 */
import { basename } from 'node:path'
import type { SpecFile } from '../ast.js'
import { hasErrors, type LoadedSpec } from '../load.js'
import { writeDecls } from './decls.js'
import { GeneratedFile, generatedHeader } from './generated-file.js'
import { serviceDefinition, serviceName } from './runtime.js'
import { moduleName, Scope } from './scope.js'
import { writeService } from './service.js'
import { TypeWriter } from './types.js'

/** One generated file. */
export interface GeneratedOutput {
  /** Path relative to the output directory, e.g. `student.ts`. */
  readonly path: string
  readonly content: string
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** The command printed in the header as the way to regenerate (default `unipc-idl gen <spec>`). */
  readonly command?: (file: SpecFile) => string
}

/**
 * Generates TypeScript for a spec and the files it imports.
 * @param spec - a loaded spec without errors
 * @throws Error when the spec has errors (check `spec.diagnostics` first)
 */
export function generate(spec: LoadedSpec, options: GenerateOptions = {}): GeneratedOutput[] {
  if (hasErrors(spec.diagnostics)) throw new Error('the spec has errors; fix them before generating')
  const all = [spec.root, ...spec.files.values()]
  const command = options.command ?? ((f: SpecFile) => `unipc-idl gen ${basename(f.path)}`)
  return all.map((file) => {
    const others = all.filter((o) => o !== file)
    const sub: LoadedSpec = {
      root: file,
      files: new Map(others.map((o) => [o.path, o])),
      sources: spec.sources,
      diagnostics: [],
    }
    return { path: `${moduleName(file)}.ts`, content: generateFile(sub, command(file)) }
  })
}

/** Generates the module of `spec.root`. */
function generateFile(spec: LoadedSpec, command: string): string {
  const file = spec.root
  const scope = Scope.of(spec)
  const declared = file.types.map((t) => t.name)
  const S = file.service?.name
  if (S)
    declared.push(
      S,
      `${S}Component`,
      `${S}Socket`,
      `${S}Fingerprint`,
      `${S}Members`,
      `${S}Client`,
      `${S}ClientOptions`,
      `${S}Server`,
    )
  const f = new GeneratedFile(`${moduleName(file)}.ts`, declared)
  const types = new TypeWriter(f, scope)
  if (file.namespace) f.line(`// namespace ${file.namespace.name}`, '')
  writeDecls(f, types, scope, file.types)
  if (file.service) {
    const models = scope
      .all()
      .filter((r) => r.decl.kind === 'model')
      .map((r) => r.decl.name)
    writeService({
      file: f,
      types,
      scope,
      spec: file,
      busName: serviceName(file),
      fingerprint: serviceDefinition(spec).fingerprint,
      models: [...new Set(models)],
    })
  }
  return f.toString(generatedHeader(basename(file.path), command))
}
