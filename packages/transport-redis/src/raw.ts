/**
 * Hot-path commands encoded by hand. A request round trip sends a handful of commands whose names
 * and keys never change (PUBLISH to one inbox, XADD to one stream, the server's XREADGROUP…).
 * Through ioredis's generated methods each costs a Command with its argument flattening, string
 * building, a promise and the reactions our batches chain on it (2–3 µs of CPU each, on the
 * critical path of every call). A {@link RawCommand} carries bytes we encoded — the fixed head once
 * per key, only the tail per call — and settles through a callback. It is still an ioredis Command,
 * sent with `sendCommand`: ioredis queues it while offline, matches its reply in order, resends it
 * after a reconnect (its bytes) and, on a Cluster, routes it by its key and follows redirections
 * (a Cluster command carries its arguments for that).
 * @module
 */
import { Cluster, Command } from 'ioredis'
import type { Client } from './client.js'

/** Receives a raw command's reply (Buffers for strings, numbers, arrays, null) or its error. */
export type RawCallback = (err: Error | null, reply: unknown) => void

/** An ioredis Command whose RESP bytes are ours and whose outcome goes to a callback. */
export class RawCommand extends Command {
  readonly #bytes: Buffer

  /**
   * @param name - the command's name (lower case, as ioredis's flag tables expect)
   * @param bytes - the whole command in RESP
   * @param done - called once with the reply or the error
   * @param args - the arguments, needed only on a Cluster (routing by key); empty otherwise
   */
  constructor(name: string, bytes: Buffer, done: RawCallback, args: (string | Buffer)[] = []) {
    super(name, args)
    this.#bytes = bytes
    // The promise Command made stays unused: the reply goes straight to `done` (no reactions).
    this.resolve = (reply: unknown) => {
      this.isResolved = true
      clearTimers(this)
      done(null, reply)
    }
    this.reject = (err: Error) => {
      clearTimers(this)
      done(err, undefined)
    }
  }

  override toWritable(): Buffer {
    return this.#bytes
  }
}

/** Clears a command timeout ioredis may have armed (the `commandTimeout` option). */
function clearTimers(command: Command): void {
  ;(command as unknown as { _clearTimers?: () => void })._clearTimers?.()
}

const CRLF = 0x0a0d // "\r\n" little-endian

/** The leading arguments of a command (name, key, fixed options), encoded once. */
export class RespHead {
  /** RESP bulk strings of the arguments, without the array header. */
  readonly bytes: Buffer
  /** The command's name in lower case. */
  readonly name: string

  /** @param args - the command name first, then the fixed arguments */
  constructor(readonly args: readonly string[]) {
    this.name = (args[0] as string).toLowerCase()
    const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`)
    this.bytes = Buffer.from(parts.join(''))
  }
}

/** Bytes of `$<n>\r\n`: length headers of small sizes are memoized. */
const lengthHeads: Buffer[] = []
function lengthHead(n: number): Buffer {
  if (n < 1024) {
    let h = lengthHeads[n]
    if (h === undefined) {
      h = Buffer.from(`$${n}\r\n`)
      lengthHeads[n] = h
    }
    return h
  }
  return Buffer.from(`$${n}\r\n`)
}

/** Bytes of `*<n>\r\n`. */
const arrayHeads: Buffer[] = []
function arrayHead(n: number): Buffer {
  let h = arrayHeads[n]
  if (h === undefined) {
    h = Buffer.from(`*${n}\r\n`)
    if (n < 256) arrayHeads[n] = h
  }
  return h
}

/**
 * Encodes `head` followed by `tail` as one RESP command. Tail strings are written as UTF-8; byte
 * arrays are copied in as they are.
 */
export function encode(head: RespHead, tail: readonly (string | Uint8Array)[]): Buffer {
  const top = arrayHead(head.args.length + tail.length)
  let size = top.length + head.bytes.length
  const lens: number[] = new Array(tail.length)
  for (let i = 0; i < tail.length; i++) {
    const t = tail[i] as string | Uint8Array
    const n = typeof t === 'string' ? Buffer.byteLength(t) : t.length
    lens[i] = n
    size += lengthHead(n).length + n + 2
  }
  const out = Buffer.allocUnsafe(size)
  let at = top.copy(out, 0)
  at += head.bytes.copy(out, at)
  for (let i = 0; i < tail.length; i++) {
    const t = tail[i] as string | Uint8Array
    const n = lens[i] as number
    at += lengthHead(n).copy(out, at)
    if (typeof t === 'string') at += out.write(t, at, n, 'utf8')
    else {
      out.set(t, at)
      at += n
    }
    out.writeUInt16LE(CRLF, at)
    at += 2
  }
  return out
}

/** Encodes `head` followed by one byte array (PUBLISH's message, XADD's frame): the hottest case. */
export function encode1(head: RespHead, data: Uint8Array): Buffer {
  const top = arrayHead(head.args.length + 1)
  const len = lengthHead(data.length)
  const out = Buffer.allocUnsafe(top.length + head.bytes.length + len.length + data.length + 2)
  let at = top.copy(out, 0)
  at += head.bytes.copy(out, at)
  at += len.copy(out, at)
  out.set(data, at)
  out.writeUInt16LE(CRLF, at + data.length)
  return out
}

/** Pre-encoded whole commands (no tail), e.g. a server's blocking read: sent as they are. */
export function encodeHead(head: RespHead): Buffer {
  return Buffer.concat([arrayHead(head.args.length), head.bytes])
}

/** The parts of an ioredis standalone client that {@link sendRaw}'s direct path uses. */
interface RedisInternals {
  status: string
  stream?: { writable: boolean; write(bytes: Buffer): boolean }
  commandQueue?: { push(item: { command: Command; stream: undefined; select: number }): unknown }
  condition?: { select: number; subscriber: unknown }
  offlineQueue?: { length: number }
  options: { commandTimeout?: number; socketTimeout?: number; blockingTimeout?: number }
}

/**
 * Whether a ready standalone connection lets a raw command skip `sendCommand`'s per-command
 * bookkeeping: no command, socket or blocking timeouts to arm, not in subscriber mode, nothing
 * waiting in the offline queue (it must go first), and the queue ioredis matches replies with is
 * where we expect it.
 */
function direct(r: RedisInternals): boolean {
  const o = r.options
  return (
    r.status === 'ready' &&
    r.stream?.writable === true &&
    typeof r.commandQueue?.push === 'function' &&
    r.condition !== undefined &&
    !r.condition.subscriber &&
    r.offlineQueue?.length === 0 &&
    o.commandTimeout === undefined &&
    o.socketTimeout === undefined &&
    o.blockingTimeout === undefined
  )
}

/**
 * Sends a raw command on `client`. A ready standalone connection gets the bytes written and the
 * command queued for its reply directly — what `sendCommand` does on that path, without its flag
 * lookups (a lower-cased name per lookup) and timeout checks, none of which apply (see `direct`);
 * otherwise `sendCommand` takes it (offline queue while reconnecting, timeouts). On a Cluster the
 * command also carries its arguments, which ioredis needs to find the key's node.
 */
export function sendRaw(
  client: Client,
  head: RespHead,
  bytes: Buffer,
  done: RawCallback,
  tail?: readonly (string | Uint8Array)[],
): void {
  if (client instanceof Cluster) {
    const args = [...head.args.slice(1), ...(tail ?? []).map((t) => (typeof t === 'string' ? t : toBuf(t)))]
    client.sendCommand(new RawCommand(head.name, bytes, done, args))
    return
  }
  const command = new RawCommand(head.name, bytes, done)
  const r = client as unknown as RedisInternals
  if (direct(r)) {
    ;(r.stream as NonNullable<RedisInternals['stream']>).write(bytes)
    ;(r.commandQueue as NonNullable<RedisInternals['commandQueue']>).push({
      command,
      stream: undefined,
      select: (r.condition as NonNullable<RedisInternals['condition']>).select,
    })
  } else client.sendCommand(command)
}

function toBuf(t: Uint8Array): Buffer {
  return Buffer.isBuffer(t) ? t : Buffer.from(t.buffer, t.byteOffset, t.byteLength)
}
