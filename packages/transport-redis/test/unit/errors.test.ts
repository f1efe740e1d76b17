import { AuthError, ConnectionError, TimeoutError } from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { toUnipcError } from '../../src/errors.js'

describe('toUnipcError', () => {
  it('maps refused credentials and permissions to AuthError', () => {
    expect(toUnipcError(new Error('WRONGPASS invalid username-password pair'), 'x')).toBeInstanceOf(AuthError)
    expect(toUnipcError(new Error('NOAUTH Authentication required.'), 'x')).toBeInstanceOf(AuthError)
    expect(
      toUnipcError(new Error("NOPERM this user has no permissions to run the 'rpush' command"), 'x'),
    ).toBeInstanceOf(AuthError)
  })

  it('maps refused writes and lost connections to ConnectionError naming the operation', () => {
    const oom = toUnipcError(
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
      "push to queue 'a'",
    )
    expect(oom).toBeInstanceOf(ConnectionError)
    expect(oom.message).toBe(
      "Redis: push to queue 'a' failed: OOM command not allowed when used memory > 'maxmemory'.",
    )
    expect((oom as ConnectionError).cause).toBeInstanceOf(Error)
    expect(toUnipcError('Connection is closed.', 'x')).toBeInstanceOf(ConnectionError)
  })

  it('passes unipc errors through unchanged', () => {
    const t = new TimeoutError('call', 5)
    expect(toUnipcError(t, 'x')).toBe(t)
  })
})
