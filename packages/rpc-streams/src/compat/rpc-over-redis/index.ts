/**
 * rpc-over-redis compatibility: serve and call unipc services in the wire format of the Python
 * rpc-over-redis library. Use `serve(bus, svc, impl, { compat: 'rpc-over-redis' })` and
 * `createClient(bus, svc, { compat: 'rpc-over-redis' })` with a bus on the Redis transport, or the
 * functions here with an explicit Redis target.
 * @module
 */
export {
  createRpcOverRedisClient,
  type RpcOverRedisClientOptions,
} from './client.js'
export { type ConnectionFactory, connectionFactory, type RedisTarget, redisTargetOf } from './connection.js'
export { fromJson, toJson } from './json-values.js'
export { compareRpcSchema, pythonTypeName, type RpcSchema, rpcSchema } from './python-types.js'
export { type RpcOverRedisServeOptions, serveRpcOverRedis } from './server.js'
export {
  DEFAULT_GROUP,
  DEFAULT_PREFIX,
  DEFAULT_TIMEOUT_MS,
  PROTOCOL,
  type RpcErrorObject,
  type RpcReply,
  type RpcRequest,
  replyChannel,
  requestStream,
  SCHEMA_METHOD,
} from './wire.js'
