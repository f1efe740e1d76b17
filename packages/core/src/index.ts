/**
 * @unipc/core — one IPC API (commands, settings, status, events, requests) over any transport.
 * @packageDocumentation
 */

export { Bus, type BusOptions } from './bus.js'
export { type Codec, jsonCodec, msgpackCodec, resolveCodec } from './codec.js'
export {
  type CommandContext,
  type CommandHandler,
  Commands,
  type HandleOptions,
  queueName,
  type SendOptions,
} from './commands.js'
export {
  type ConnectOptions,
  connect,
  createTransport,
  defaultUrl,
  registerTransport,
  runtimeDir,
} from './connect.js'
export * from './errors.js'
export { type EventMessage, EventSubscription, Events, type SubscribeOptions } from './events.js'
export { type Logger, silentLogger } from './logger.js'
export { createMemoryTransport } from './memory/memory-transport.js'
export {
  BUSES_MAP,
  type BusEntry,
  COMPONENTS_MAP,
  listBuses,
  listComponents,
  queueDepth,
} from './monitor/directory.js'
export { Monitor, type MonitorOptions, monitor } from './monitor/monitor.js'
export {
  MONITORS_MAP,
  preview,
  TRACE_KINDS,
  TRACE_PREFIX,
  type TraceKind,
  type TraceRecord,
} from './monitor/trace.js'
export { assertName, MAX_NAME_LENGTH } from './names.js'
export { observableIterator, UnipcObservable } from './observable.js'
export { assertChannel, type ChannelMatcher, compilePattern, matchChannel } from './pattern.js'
export {
  type CallOptions,
  type HandlerResult,
  type RequestContext,
  type RequestHandler,
  Requests,
  type StreamOptions,
} from './requests.js'
export { Settings, settingsMap } from './settings.js'
export type {
  Closable,
  ConnectionState,
  ConsumeOptions,
  Delivery,
  Limits,
  MapChangeListener,
  MapTransport,
  MessageListener,
  MessagingTransport,
  OpenContext,
  PubSubTransport,
  QueueTransport,
  Supports,
  Transport,
  TransportFactory,
  TransportFactoryOptions,
} from './spi.js'
export { ALIVE_KEY, type LivenessOptions, Status, type StatusSnapshot, statusMap } from './status.js'
