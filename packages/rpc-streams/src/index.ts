/**
 * @unipc/rpc-streams — typed services over any unipc bus: definitions with runtime types, typed
 * clients and servers, streaming with flow control, declared errors and schema checks.
 * @packageDocumentation
 */

export {
  type ClientExtras,
  type ClientMethod,
  type ClientOptions,
  createClient,
  type ServiceClient,
} from './client.js'
export * as rpcOverRedis from './compat/rpc-over-redis/index.js'
export {
  type DefineErrorOptions,
  defineError,
  isServiceErrorClass,
  ServiceError,
  type ServiceErrorClass,
} from './errors.js'
export {
  DEFAULT_IDEMPOTENCY_MAX_ENTRIES,
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  type IdempotencyOptions,
  ReplyCache,
} from './idempotency.js'
export { reviveError } from './remote-errors.js'
export {
  compareSchemas,
  describeType,
  formatDifference,
  type SchemaComparison,
  type SchemaDifference,
} from './schema/compare.js'
export { type SchemaCheckResult, SchemaGate, type SchemaMode } from './schema/gate.js'
export { isSchemaInfo, type SchemaInfo, schemaMethod } from './schema/info.js'
export {
  BYTES_SUFFIX,
  bytesParamsField,
  type ImplMethod,
  methodName,
  type ServeOptions,
  type ServiceContext,
  type ServiceImpl,
  type ServiceServer,
  type StreamReturn,
  serve,
} from './server.js'
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
