/**
 * Small statistics: percentiles of sorted samples and the median/min/max summary of repetitions.
 * @module
 */

/** Median with the spread of the repetitions it summarises. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** The `p`-th percentile (0..100) of ascending `sorted` samples (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!
}

/** Median (the mean of the middle two for an even count), min and max. */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]! }
}
