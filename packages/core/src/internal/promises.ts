/**
 * Small promise helpers shared by the hot paths.
 * @module
 */

/** Whether `v` is a promise or another thenable (what `await` would wait for). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  )
}
