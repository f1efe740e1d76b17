/**
 * The three rxjs classes the core builds on, imported from their own modules.
 *
 * Why not `from 'rxjs'`: the package index loads every operator (some 400 modules), about 1.5 MB of
 * V8 heap in each process before any app code runs. Those 1.5 MB matter: V8 keeps a heap under
 * ~8 MB out of full collections, while a process just above that size runs a mark-compact on
 * nearly every young collection that promotes anything, which halved the 1 MiB request throughput
 * of a small caller process (measured with the socket transport: ~900 -> ~450 CPU-µs per MB when
 * the caller's heap limit was raised). These modules are the very ones `rxjs` re-exports (same
 * files under Node's `node`/`require` conditions), so the classes are identical to the app's own
 * rxjs imports; test/unit/rx-identity.test.ts fails if an rxjs release moves them.
 * @module
 */
export { BehaviorSubject } from 'rxjs/internal/BehaviorSubject'
export { Observable } from 'rxjs/internal/Observable'
export { Subject } from 'rxjs/internal/Subject'
