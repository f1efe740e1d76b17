import { describe, expect, it } from 'vitest'
import {
  ConnectionError,
  deserializeError,
  ErrorCode,
  NoHandlerError,
  PayloadTooLargeError,
  RemoteError,
  serializeError,
  TimeoutError,
  UnipcError,
} from '../../src/index.js'
import { encodableError } from '../../src/internal/error-frame.js'

class Custom extends Error {
  readonly code = 'E_CUSTOM'
  constructor(
    readonly field: string,
    readonly count: number,
  ) {
    super('custom failure')
    this.name = 'Custom'
  }
}

describe('errors', () => {
  it('every unipc error has a stable code, its class name and a cause', () => {
    const cause = new Error('root')
    const e = new TimeoutError('request x', 100, { cause })
    expect(e).toBeInstanceOf(UnipcError)
    expect(e).toMatchObject({ name: 'TimeoutError', code: ErrorCode.Timeout, timeoutMs: 100, cause })
  })

  it('serializes name, message, code and own fields as data', () => {
    expect(serializeError(new Custom('age', 3))).toEqual({
      name: 'Custom',
      message: 'custom failure',
      code: 'E_CUSTOM',
      data: { field: 'age', count: 3 },
    })
  })

  it('prefers an explicit data field and leaves the stack out unless asked', () => {
    const e = Object.assign(new Error('x'), { data: [1, 2], other: true })
    expect(serializeError(e)).toEqual({ name: 'Error', message: 'x', data: [1, 2] })
    expect(serializeError(e, true).stack).toContain('Error: x')
  })

  it('serializes thrown strings and objects', () => {
    expect(serializeError('plain')).toEqual({ name: 'Error', message: 'plain' })
    expect(serializeError({ a: 1 })).toEqual({ name: 'Error', message: '{"a":1}' })
  })

  it('deserializes remote errors as RemoteError keeping name, code and data', () => {
    const e = deserializeError(serializeError(new Custom('f', 1)))
    expect(e).toBeInstanceOf(RemoteError)
    expect(e).toMatchObject({ name: 'Custom', code: 'E_CUSTOM', data: { field: 'f', count: 1 } })
  })

  it("deserializes unipc's own transportable errors as their classes", () => {
    expect(deserializeError(serializeError(new NoHandlerError('m')))).toBeInstanceOf(NoHandlerError)
    const big = deserializeError(serializeError(new PayloadTooLargeError(10, 5)))
    expect(big).toBeInstanceOf(PayloadTooLargeError)
    expect(big).toMatchObject({ size: 10, limit: 5 })
  })

  it('a ConnectionError thrown by a handler stays a RemoteError', () => {
    expect(deserializeError(serializeError(new ConnectionError('db down')))).toBeInstanceOf(RemoteError)
  })

  it('makes unpackable error data plain instead of losing the reply', () => {
    const data: Record<string, unknown> = { big: 2n ** 70n, m: new Map([[1, 'one']]), s: new Set([1]) }
    data.self = data
    const e = encodableError(Object.assign(new Error('odd'), { data }), false)
    expect(e.data).toEqual({ big: '1180591620717411303424', m: { 1: 'one' }, s: [1], self: undefined })
  })
})
