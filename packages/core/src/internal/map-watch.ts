/**
 * Watching a map so that the current contents come first, then every change, with nothing lost in
 * between: the change watch starts before the snapshot is read, changes that arrive meanwhile are
 * applied after it, and a change identical to what was last seen is suppressed.
 * @module
 */
import type { Closable } from '../spi.js'
import type { Runtime } from './runtime.js'

/** Receives the map's contents once, then each change. */
export interface MapWatcher {
  snapshot(contents: Map<string, Uint8Array>): void
  change(key: string, value: Uint8Array | undefined): void
  error(err: unknown): void
}

/** Starts watching `map`; resolves once the snapshot has been delivered. */
export async function watchMap(rt: Runtime, map: string, watcher: MapWatcher): Promise<Closable> {
  const seen = new Map<string, Uint8Array>()
  let buffered: [string, Uint8Array | undefined][] | undefined = []
  let closed = false
  const apply = (key: string, value: Uint8Array | undefined): void => {
    const before = seen.get(key)
    if (value === undefined ? before === undefined : before !== undefined && sameBytes(before, value)) return
    if (value === undefined) seen.delete(key)
    else seen.set(key, value)
    watcher.change(key, value)
  }
  const watch = await rt.transport.maps.watch(map, (key, value) => {
    if (closed) return
    if (buffered) buffered.push([key, value])
    else apply(key, value)
  })
  try {
    const contents = await rt.transport.maps.getAll(map)
    for (const [k, v] of contents) seen.set(k, v)
    if (!closed) watcher.snapshot(contents)
    const pending = buffered
    buffered = undefined
    for (const [k, v] of pending) if (!closed) apply(k, v)
  } catch (err) {
    await watch.close()
    throw err
  }
  return {
    async close() {
      closed = true
      await watch.close()
    },
  }
}

/** Byte equality of two payloads. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
