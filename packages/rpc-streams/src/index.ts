/**
 * @unipc/rpc-streams — typed services over any unipc bus: definitions with runtime types, typed
 * clients and servers, streaming with flow control, declared errors and schema checks.
 * @packageDocumentation
 */
export {
  type DefineErrorOptions,
  defineError,
  isServiceErrorClass,
  ServiceError,
  type ServiceErrorClass,
} from './errors.js'
export {
  defineService,
  type MethodDefinition,
  type MethodSpec,
  type MethodSpecs,
  type ParamsOf,
  type ResultOf,
  type ServiceDefinition,
  type ServiceSpec,
} from './service.js'
export {
  type CanonicalMethod,
  type CanonicalService,
  type CanonicalType,
  canonicalService,
  canonicalType,
  fingerprintOf,
  stableStringify,
} from './types/canonical.js'
export * from './types/descriptors.js'
export { isValid, type ModelResolver, type ValidateOptions, validate } from './types/validate.js'
