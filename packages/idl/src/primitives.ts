/**
 * Facts about primitive types: accepted spellings and integer ranges.
 * @module
 */
import { PRIMITIVES, type PrimitiveName } from './ast.js'

/** Other spellings accepted for primitives (LibMedium's `boolean`, `float` and `double`). */
export const PRIMITIVE_ALIASES: Readonly<Record<string, PrimitiveName>> = {
  boolean: 'bool',
  float: 'float32',
  double: 'float64',
}

/** The canonical primitive for a spelling, or undefined when `name` is not a primitive. */
export function primitiveFor(name: string): PrimitiveName | undefined {
  if ((PRIMITIVES as readonly string[]).includes(name)) return name as PrimitiveName
  return PRIMITIVE_ALIASES[name]
}

/**
 * Inclusive bounds of each integer type. The 64-bit types are limited to JavaScript's safe-integer
 * range, as in @unipc/rpc-streams, because they travel as numbers.
 */
export const INTEGER_RANGES: Readonly<Partial<Record<PrimitiveName, readonly [bigint, bigint]>>> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 53n - 1n), 2n ** 53n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 53n - 1n],
}

/** True for int8..int64 and uint8..uint64. */
export function isIntegerType(name: PrimitiveName): boolean {
  return INTEGER_RANGES[name] !== undefined
}
