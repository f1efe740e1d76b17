/**
 * redis-ipc's key names and JSON message helpers (see docs/protocol/redis.md and
 * /shared/design/seed-protocols.md): `queues.commands.<dest>[.<sub>]`, `queues.results.<component>.<thread>`,
 * `settings.<component>`, `status.<component>`, `channel.events.<component>[.<sub>]`,
 * `channel.debug.<component>`; every message is a JSON object carrying the sender's standard fields.
 * @module
 */
import { CodecError, InvalidArgumentError } from '@unipc/core/spi'

/** Fields redis-ipc adds to every pushed or published message; stripped before the core sees it. */
export const STANDARD_FIELDS = ['timestamp', 'component', 'thread', 'tid'] as const

/** The command queue list of a core queue name (`camera` or `camera.high`). */
export function commandQueue(queue: string): string {
  return `queues.commands.${queue}`
}

/** The results list of a sender. */
export function resultsQueue(component: string, thread: string): string {
  return `queues.results.${component}.${thread}`
}

/** The hash of a core map name (`settings/camera` → `settings.camera`), or undefined for other maps. */
export function compatHash(map: string): string | undefined {
  const slash = map.indexOf('/')
  const kind = map.slice(0, slash)
  return kind === 'settings' || kind === 'status' ? `${kind}.${map.slice(slash + 1)}` : undefined
}

/** The Redis channel of a core channel: `debug.<c>` → `channel.debug.<c>`, else `channel.events.<channel>`. */
export function redisChannel(channel: string): string {
  return channel.startsWith('debug.') ? `channel.${channel}` : `channel.events.${channel}`
}

/** The core channel of a Redis channel (inverse of {@link redisChannel}). */
export function coreChannel(channel: string): string {
  if (channel.startsWith('channel.events.')) return channel.slice('channel.events.'.length)
  return channel.slice('channel.'.length)
}

/** `timestamp` as the C library writes it: `"<sec>.<usec 6 digits>"`. */
export function timestamp(now = Date.now()): string {
  const sec = Math.floor(now / 1000)
  return `${sec}.${String((now % 1000) * 1000).padStart(6, '0')}`
}

/** The standard fields of a message sent by this bus. */
export function standardFields(component: string, thread: string): Record<string, unknown> {
  return { timestamp: timestamp(), component, thread, tid: process.pid }
}

const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

/** Parses a core payload (JSON codec bytes). @throws CodecError when the bus does not use the JSON codec */
export function parsePayload(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new CodecError(
      `${what}: redis-ipc mode carries JSON; connect with { codec: 'json' } when using compat: 'redis-ipc'`,
      { cause },
    )
  }
}

/** Parses a core payload that must be a JSON object. @throws InvalidArgumentError otherwise */
export function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  const v = parsePayload(bytes, what)
  if (!isObject(v))
    throw new InvalidArgumentError(
      `${what}: redis-ipc messages are JSON objects, e.g. { "command": "start" }`,
    )
  return v
}

/** True for a plain JSON object (not an array or null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parses a message read from Redis; undefined when it is not a JSON object. */
export function parseMessage(raw: Buffer | string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw.toString())
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

/** A copy of `message` without the given fields. */
export function without(
  message: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(message)) if (!fields.includes(k)) out[k] = v
  return out
}

/** JSON bytes of a value (what the core's JSON codec decodes). */
export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? null))
}
