/**
 * The msgpack subset of the hub protocol: the core's strict envelope codec (integers, floats,
 * strings, binaries, nil, booleans and nested arrays; maps and extensions refused; binaries decode
 * as views into the frame, without a copy). Re-exported here so the wire code has one import.
 * @module
 */
export {
  binHeaderSize,
  decodeValue,
  encodeValue,
  sizeOf,
  type WireValue,
  write,
  writeBinHeader,
} from '@unipc/core/spi'
