/**
 * @unipc/idl — the `.unipc` spec language: scanner, parser, checker, printer and the TypeScript
 * generator behind the `unipc-idl` command.
 * @packageDocumentation
 */
export * from './ast.js'
export { withoutLocations } from './ast-utils.js'
export { check, TypeTable, typeText } from './check.js'
export { type CliIo, runCli } from './cli.js'
export {
  type Diagnostic,
  DiagnosticBag,
  DiagnosticCode,
  type DiagnosticCodeValue,
  type DiagnosticJson,
  diagnosticToJson,
  formatDiagnostic,
  sortDiagnostics,
  suggest,
} from './diagnostics.js'
export { diffSpecs, formatChange, type SpecChange, type SpecDiff } from './diff.js'
export { type GeneratedOutput, type GenerateOptions, generate } from './gen/generate.js'
export { contractOf, serviceDefinition, serviceName } from './gen/runtime.js'
export { starterPath, starterServer } from './gen/starter.js'
export { hasErrors, type LoadedSpec, loadSpec, type ReadFile } from './load.js'
export { type ParseResult, parse, STATEMENT_KEYWORDS } from './parser.js'
export { INTEGER_RANGES, isIntegerType, PRIMITIVE_ALIASES, primitiveFor } from './primitives.js'
export {
  printDuration,
  printLiteral,
  printMember,
  printSpec,
  printString,
  printType,
  printTypeDecl,
} from './printer.js'
export { scan, type Token, type TokenKind } from './scanner.js'
