/**
 * Helpers for unipc's own tests: start TypeScript child processes, make temp dirs, find free ports.
 * Tests in every package use these instead of writing their own.
 * @packageDocumentation
 */
export { spawnTs, type ChildHandle, type SpawnTsOptions } from './spawn.js'
export { tempDir, freePort, waitFor } from './misc.js'
