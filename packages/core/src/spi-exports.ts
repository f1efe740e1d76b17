/**
 * `@unipc/core/spi`: what a transport implementation needs — the SPI types and the core's helpers
 * for patterns, names and errors. Application code imports `@unipc/core` instead.
 * @packageDocumentation
 */

export * from './errors.js'
// The core's table of calls in flight by id, for transports that track their own (direct links).
export { CallTable } from './internal/call-table.js'
// The core's frames, for transports with a compatibility mode that translates them to a foreign
// wire format (e.g. transport-redis `compat: 'redis-ipc'`).
export {
  type CommandFrame,
  decodeCommand,
  decodeInbox,
  encodeCommand,
  encodeInbox,
  FrameKind,
  type InboxFrame,
} from './internal/frames.js'
// A Buffer over a range of an ArrayBuffer, cheaper than Buffer.from (deliveries cut from a read buffer).
export { viewBuffer } from './internal/slab.js'
export { type Logger, silentLogger } from './logger.js'
export { failedCallReply, isCallerControl, lostCallReply } from './lost-call.js'
export { assertName } from './names.js'
export { joinParts, partsLength } from './parts.js'
export { assertChannel, type ChannelMatcher, compilePattern, matchChannel } from './pattern.js'
export { settingsMap } from './settings.js'
export type * from './spi.js'
export { ALIVE_KEY, statusMap } from './status.js'
export {
  asBuffer,
  binHeaderSize,
  decodeValue,
  encodeValue,
  sizeOf,
  WireReader,
  type WireValue,
  write,
  writeBinHeader,
} from './wire-msgpack.js'
