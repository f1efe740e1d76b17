/**
 * Identifier helpers for generated code.
 * @module
 */
import type { Annotation } from '../ast.js'
import { printDuration } from '../printer.js'

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval undefined'
  ).split(' '),
)

/**
 * A local variable name for a spec name: reserved words and names the generated code uses itself
 * (`options`, `ctx`) get a trailing underscore.
 */
export function localName(name: string, taken: readonly string[] = ['options', 'ctx']): string {
  return RESERVED.has(name) || taken.includes(name) ? `${name}_` : name
}

/** A property key: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name)
}

/** TSDoc block tags for a declaration's annotations. */
export function annotationTags(annotations: readonly Annotation[]): string[] {
  const tags: string[] = []
  for (const a of annotations) {
    if (a.kind === 'since') tags.push(`@since ${a.version}`)
    else if (a.kind === 'deprecated') tags.push(a.reason ? `@deprecated ${a.reason}` : '@deprecated')
    else tags.push(`@remarks Default timeout: ${printDuration(a.ms)}.`)
  }
  return tags
}

/** The `@timeout` of a member in ms, if it has one. */
export function timeoutOf(annotations: readonly Annotation[]): number | undefined {
  for (const a of annotations) if (a.kind === 'timeout') return a.ms
  return undefined
}
