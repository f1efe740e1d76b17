/**
 * The hub's state file: settings and pending commands, written as one msgpack snapshot to a
 * temporary file, fsynced and renamed over the old one, so a crash at any moment leaves either the
 * previous snapshot or the new one, never a torn file.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { type Logger, ProtocolError } from '@unipc/core/spi'
import { decodeValue, encodeValue, type WireValue } from '../wire/msgpack.js'
import type { QueuedMessage } from './queues.js'

const FORMAT = 'unipc-hub-state'
const VERSION = 1

/** What a snapshot holds. */
export interface HubState {
  readonly maps: Map<string, Map<string, Uint8Array>>
  readonly queues: Map<string, QueuedMessage[]>
}

/** Encodes a snapshot: `[FORMAT, VERSION, [[map, [key, value, …]], …], [[queue, [redelivered, data, …]], …]]`. */
export function encodeState(state: {
  maps: Iterable<[string, ReadonlyMap<string, Uint8Array>]>
  queues: Iterable<[string, QueuedMessage[]]>
}): Buffer {
  const maps: WireValue[] = []
  for (const [name, m] of state.maps) {
    const entries: WireValue[] = []
    for (const [k, v] of m) entries.push(k, v)
    maps.push([name, entries])
  }
  const queues: WireValue[] = []
  for (const [name, items] of state.queues) {
    const flat: WireValue[] = []
    for (const it of items) flat.push(it.redelivered, it.data)
    queues.push([name, flat])
  }
  return encodeValue([FORMAT, VERSION, maps, queues])
}

/**
 * Reads a state file; an absent file is an empty state.
 * @throws ProtocolError when the file is not a hub state file (the hub refuses to start rather than lose it)
 */
export function loadState(path: string): HubState {
  const state: HubState = { maps: new Map(), queues: new Map() }
  if (!existsSync(path)) return state
  const bad = (why: string): ProtocolError =>
    new ProtocolError(`state file ${path} is unreadable (${why}); move it away to start with an empty state`)
  let v: WireValue
  try {
    v = decodeValue(readFileSync(path))
  } catch (err) {
    throw bad((err as Error).message)
  }
  if (!Array.isArray(v) || v[0] !== FORMAT || v[1] !== VERSION) throw bad('not a unipc hub state file')
  const [, , maps, queues] = v
  if (!Array.isArray(maps) || !Array.isArray(queues)) throw bad('bad layout')
  for (const entry of maps) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
      throw bad('bad map')
    const m = new Map<string, Uint8Array>()
    const kv = entry[1]
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = kv[i]
      const val = kv[i + 1]
      if (typeof k !== 'string' || !(val instanceof Uint8Array)) throw bad('bad map entry')
      m.set(k, Uint8Array.prototype.slice.call(val))
    }
    state.maps.set(entry[0], m)
  }
  for (const entry of queues) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
      throw bad('bad queue')
    const items: QueuedMessage[] = []
    const flat = entry[1]
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const data = flat[i + 1]
      if (!(data instanceof Uint8Array)) throw bad('bad queued message')
      items.push({ redelivered: flat[i] === true, data: Uint8Array.prototype.slice.call(data) })
    }
    state.queues.set(entry[0], items)
  }
  return state
}

/** Writes snapshots of a changing state, at most one at a time, soon after each change. */
export class StateFileWriter {
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> | undefined
  #dirty = false
  #lastWriteMs = 0

  /**
   * @param path - the state file
   * @param snapshot - encodes the current state
   * @param delayMs - how long to gather changes before writing
   */
  constructor(
    readonly path: string,
    readonly snapshot: () => Buffer,
    readonly logger: Logger,
    readonly delayMs = 20,
  ) {}

  /** Notes a change; a snapshot follows shortly. */
  changed(): void {
    this.#dirty = true
    if (this.#timer || this.#writing) return
    // A big state takes long to write: wait proportionally longer, so snapshots never take more
    // than about a fifth of the hub's time however busy the queues are.
    this.#timer = setTimeout(() => this.#write(), Math.max(this.delayMs, this.#lastWriteMs * 4))
  }

  /** Writes the current state now, synchronously (used when the hub stops). */
  flushSync(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (!this.#dirty) return
    this.#dirty = false
    const tmp = `${this.path}.tmp-${process.pid}`
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, this.snapshot())
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
  }

  /** Waits for a write in progress, then writes whatever changed since. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing
    this.flushSync()
  }

  /** Stops scheduling writes (after a final flush). */
  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #write(): void {
    this.#timer = undefined
    this.#dirty = false
    const started = performance.now()
    this.#writing = this.#writeAsync(this.snapshot())
      .then(() => {
        this.#lastWriteMs = performance.now() - started
      })
      .catch((err) => this.logger.error(`unipc-hub: cannot write state file ${this.path}`, err))
      .finally(() => {
        this.#writing = undefined
        if (this.#dirty) this.changed()
      })
  }

  async #writeAsync(bytes: Buffer): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}`
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(bytes)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, this.path)
  }
}
