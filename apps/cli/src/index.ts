/**
 * @unipc/cli — the `unipc` command as a library: run it in-process (tests, other tools) and reuse
 * its formatting of trace records.
 * @packageDocumentation
 */
export { Exit } from './cli/exit.js'
export { commands } from './commands/index.js'
export { runCli } from './run.js'
export { formatTrace, jsonTrace } from './trace-line.js'
