/**
 * Turns errors that arrive from a server back into the declared error classes of the method.
 * @module
 */
import { RemoteError } from '@unipc/core'
import type { MethodDefinition, ServiceDefinition } from './service.js'
import { isValid } from './types/validate.js'

/**
 * Returns an instance of the declared class when `err` is a RemoteError named like one of the
 * method's declared errors and its fields match; otherwise `err` unchanged (undeclared errors stay
 * RemoteError, unipc's own errors keep their classes).
 * @param err - what the call rejected with
 * @param method - the method called
 * @param service - its service (resolves model refs in error fields)
 */
export function reviveError(err: unknown, method: MethodDefinition, service: ServiceDefinition): unknown {
  if (!(err instanceof RemoteError)) return err
  const cls = method.errors.get(err.name)
  if (!cls) return err
  const data = err.data ?? {}
  if (!isValid(cls.fields, data, service.resolve)) return err
  const revived = new cls(data as Record<string, unknown>, err.message)
  revived.remote = true
  if (err.remoteStack) revived.stack = err.remoteStack
  return revived
}
