/**
 * Settings: per-component key/value configuration that anyone can read, write and watch.
 * Last write wins; `watch` emits the current value first, then every change.
 * @module
 */

import type { Runtime } from './internal/runtime.js'
import { mapObservable } from './internal/watch-observable.js'
import { assertName } from './names.js'
import type { UnipcObservable } from './observable.js'

/** The map name under which a component's settings live (transports map it to their keys). */
export function settingsMap(component: string): string {
  return `settings/${component}`
}

/** The settings facility of a bus. */
export class Settings {
  /** @internal */
  constructor(private readonly rt: Runtime) {}

  /** Sets one setting of `component`. Watchers everywhere see the change. */
  async set(component: string, key: string, value: unknown): Promise<void> {
    this.#check(component, key, 'settings.set')
    await this.rt.transport.maps.set(settingsMap(component), new Map([[key, this.rt.encode(value)]]))
  }

  /** Sets several settings of `component` at once. */
  async setMany(component: string, values: Record<string, unknown>): Promise<void> {
    this.#check(component, undefined, 'settings.setMany')
    const entries = new Map<string, Uint8Array>()
    for (const [k, v] of Object.entries(values)) {
      assertName('setting', k)
      entries.set(k, this.rt.encode(v))
    }
    if (entries.size > 0) await this.rt.transport.maps.set(settingsMap(component), entries)
  }

  /** Reads one setting; undefined when it is not set. */
  async get<T = unknown>(component: string, key: string): Promise<T | undefined> {
    this.#check(component, key, 'settings.get')
    const bytes = await this.rt.transport.maps.get(settingsMap(component), key)
    return bytes === undefined ? undefined : (this.rt.decode(bytes) as T)
  }

  /** Reads every setting of `component` as a plain object. */
  async getAll<T extends Record<string, unknown> = Record<string, unknown>>(component: string): Promise<T> {
    this.#check(component, undefined, 'settings.getAll')
    return decodeAll(this.rt, await this.rt.transport.maps.getAll(settingsMap(component))) as T
  }

  /** Deletes one setting. Watchers see `undefined`. */
  async delete(component: string, key: string): Promise<void> {
    this.#check(component, key, 'settings.delete')
    await this.rt.transport.maps.delete(settingsMap(component), [key])
  }

  /**
   * Watches one setting (`key` given: emits its value, `undefined` when unset) or all of a
   * component's settings (emits the whole object). The current state comes first, then each change.
   */
  watch<T = unknown>(component: string, key: string): UnipcObservable<T | undefined>
  watch<T extends Record<string, unknown> = Record<string, unknown>>(component: string): UnipcObservable<T>
  watch(component: string, key?: string): UnipcObservable<unknown> {
    this.#check(component, key, 'settings.watch')
    const rt = this.rt
    if (key !== undefined) {
      return mapObservable<unknown>(rt, settingsMap(component), 'settings.watch', (emit) => ({
        snapshot: (all) => {
          const v = all.get(key)
          emit(v === undefined ? undefined : rt.decode(v))
        },
        change: (k, v) => {
          if (k === key) emit(v === undefined ? undefined : rt.decode(v))
        },
      }))
    }
    return mapObservable<Record<string, unknown>>(rt, settingsMap(component), 'settings.watch', (emit) => {
      let current: Record<string, unknown> = {}
      return {
        snapshot: (all) => {
          current = decodeAll(rt, all)
          emit({ ...current })
        },
        change: (k, v) => {
          if (v === undefined) delete current[k]
          else current[k] = rt.decode(v)
          emit({ ...current })
        },
      }
    })
  }

  #check(component: string, key: string | undefined, what: string): void {
    this.rt.assertOpen(what)
    assertName('component', component)
    if (key !== undefined) assertName('setting', key)
  }
}

function decodeAll(rt: Runtime, all: Map<string, Uint8Array>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of all) out[k] = rt.decode(v)
  return out
}
