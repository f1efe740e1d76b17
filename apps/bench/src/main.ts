/**
 * `npm run bench`: runs the benchmark plan and writes the terminal table, docs/benchmarks.md and
 * docs/benchmarks.json.
 *
 * Options: `--quick` (smoke: one short repetition), `--only <system[,system]>` (substring match),
 * `--scenario <name[,name]>`, `--reps <n>`, `--out <dir>` (default: the repo's docs/), `--no-write`.
 * @module
 */
import { run } from './cli.js'

process.exitCode = await run(process.argv.slice(2))
