/**
 * Loads the adapter modules listed in systems/index.ts. A module that fails to import is reported
 * (its systems cannot be named, so the run lists the module and the error) instead of crashing.
 * @module
 */
import { pathToFileURL } from 'node:url'
import { systemModules } from '../systems/index.js'
import type { System } from '../types.js'

/** A system with the module it came from (role processes import the same module). */
export interface LoadedSystem {
  readonly system: System
  readonly module: string
}

/** Imports every adapter module; returns the systems and the modules that failed. */
export async function loadSystems(): Promise<{
  systems: LoadedSystem[]
  broken: { module: string; error: string }[]
}> {
  const systems: LoadedSystem[] = []
  const broken: { module: string; error: string }[] = []
  for (const file of systemModules) {
    const module = pathToFileURL(new URL(`../systems/${file}`, import.meta.url).pathname).href
    try {
      const mod = (await import(module)) as { systems?: System[] }
      if (!Array.isArray(mod.systems)) throw new Error('exports no `systems` array')
      for (const system of mod.systems) systems.push({ system, module })
    } catch (err) {
      broken.push({ module: file, error: err instanceof Error ? err.message : String(err) })
    }
  }
  return { systems, broken }
}
