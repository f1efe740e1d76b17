/** Views a Uint8Array as a Buffer without copying (ioredis sends Buffers as binary-safe bulk strings). */
export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
