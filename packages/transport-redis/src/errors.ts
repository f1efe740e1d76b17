/**
 * Turns ioredis and Redis errors into unipc's typed errors, so callers can branch on `code`:
 * refused credentials or permissions become AuthError, everything else ConnectionError naming
 * what Redis refused.
 * @module
 */
import { AuthError, ConnectionError, UnipcError } from '@unipc/core/spi'

const AUTH_REPLIES = /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid username-password|Authentication required/

/**
 * Maps an error from ioredis to a unipc error.
 * @param err - what ioredis threw or rejected with
 * @param what - the operation, for the message (e.g. `push to queue camera`)
 */
export function toUnipcError(err: unknown, what: string): Error {
  if (err instanceof UnipcError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (AUTH_REPLIES.test(message))
    return new AuthError(`Redis refused ${what}: ${message}; check the ACL user and password`, { cause: err })
  return new ConnectionError(`Redis: ${what} failed: ${message}`, { cause: err })
}

/** Runs `op` and rethrows its failure as a unipc error. */
export async function redisCall<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    throw toUnipcError(err, what)
  }
}

/** Maps a rejection of `op` to a unipc error without an extra async frame (hot paths). */
export function mapRejection<T>(what: string, op: Promise<T>): Promise<T> {
  return op.catch((err: unknown) => {
    throw toUnipcError(err, what)
  })
}
