/**
 * Helpers over the syntax tree.
 * @module
 */

const LOCATION_KEYS = new Set(['span', 'nameSpan', 'path'])

/**
 * A plain copy of a tree without source locations (spans and the file path), with bigints as
 * strings: two trees that mean the same spec compare equal with `toEqual` / `JSON.stringify`.
 */
export function withoutLocations(node: unknown): unknown {
  if (typeof node === 'bigint') return `${node}n`
  if (Array.isArray(node)) return node.map(withoutLocations)
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) {
      if (LOCATION_KEYS.has(k) || v === undefined) continue
      out[k] = withoutLocations(v)
    }
    return out
  }
  return node
}
