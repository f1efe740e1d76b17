#!/usr/bin/env node
/**
 * `unipc-idl`: check specs, generate TypeScript, verify generated files in CI, write a starter
 * server and compare two versions of a spec. Exit codes: 0 fine, 1 errors / stale files / breaking
 * changes, 2 bad usage.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type Diagnostic, diagnosticToJson, formatDiagnostic } from './diagnostics.js'
import { diffSpecs, formatChange } from './diff.js'
import { generate } from './gen/generate.js'
import { starterPath, starterServer } from './gen/starter.js'
import { type LoadedSpec, loadSpec } from './load.js'

const USAGE = `usage:
  unipc-idl gen <spec.unipc...> --out <dir> [--verify] [--format text|json]
  unipc-idl check <spec.unipc...> [--format text|json]
  unipc-idl init-server <spec.unipc> [--out <dir>]
  unipc-idl diff <old.unipc> <new.unipc> [--format text|json]

  gen          generate one .ts module per spec (and per imported spec) into --out
  --verify     generate in memory and exit 1 when files in --out are missing or stale (for CI)
  check        parse and validate only
  init-server  write <name>-server.ts, a starter server, once (never overwrites)
  diff         list each change as compatible or breaking (exit 1 when any is breaking)`

/** Where the CLI writes (replaceable in tests). */
export interface CliIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
}

/**
 * Runs the CLI.
 * @param argv - the arguments after the program name
 * @returns the exit code
 */
export function runCli(argv: readonly string[], io: CliIo = defaultIo): number {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { command, files, out, verify, json } = parsed
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(USAGE)
    return command === undefined ? 2 : 0
  }
  const need = (n: number, exact: boolean): boolean => {
    if (exact ? files.length === n : files.length >= n) return true
    io.err(
      `unipc-idl ${command}: expected ${exact ? '' : 'at least '}${n} spec file${n === 1 ? '' : 's'}\n\n${USAGE}`,
    )
    return false
  }
  const load = (path: string): LoadedSpec | undefined => {
    try {
      return loadSpec(path)
    } catch (e) {
      io.err(`unipc-idl: ${(e as Error).message}`)
      return undefined
    }
  }
  const report = (specs: readonly LoadedSpec[]): boolean => {
    const diags = specs.flatMap((s) => s.diagnostics)
    const sources = new Map(specs.flatMap((s) => [...s.sources]))
    // `check` always answers in JSON; other commands only when there is something to report.
    if (json && (command === 'check' || diags.length > 0))
      io.out(JSON.stringify({ diagnostics: diags.map(diagnosticToJson) }, null, 2))
    else for (const d of diags) io.err(`${formatDiagnostic(d, sources.get(d.file))}\n`)
    const errors = diags.filter((d: Diagnostic) => d.severity === 'error').length
    if (!json && errors > 0) io.err(`${errors} error${errors === 1 ? '' : 's'}`)
    return errors === 0
  }

  switch (command) {
    case 'check': {
      if (!need(1, false)) return 2
      const specs = files.map(load)
      if (specs.some((s) => s === undefined)) return 1
      return report(specs as LoadedSpec[]) ? 0 : 1
    }
    case 'gen': {
      if (!need(1, false)) return 2
      if (!out) {
        io.err(`unipc-idl gen: --out <dir> is required\n\n${USAGE}`)
        return 2
      }
      const specs = files.map(load)
      if (specs.some((s) => s === undefined)) return 1
      if (!report(specs as LoadedSpec[])) return 1
      const outputs = new Map<string, string>()
      for (const [i, spec] of (specs as LoadedSpec[]).entries()) {
        const cmd = `unipc-idl gen ${files[i]} --out ${out}`
        const outputs1 = generate(spec, {
          command: (f) => (f === spec.root ? cmd : `unipc-idl gen ${f.path} --out ${out}`),
        })
        // A spec given on the command line wins over the same file generated as someone's import.
        outputs.set(outputs1[0]!.path, outputs1[0]!.content)
        for (const o of outputs1.slice(1)) if (!outputs.has(o.path)) outputs.set(o.path, o.content)
      }
      if (verify) {
        const stale = [...outputs].filter(([p, content]) => {
          const target = join(out, p)
          return !existsSync(target) || readFileSync(target, 'utf8') !== content
        })
        for (const [p] of stale) io.err(`stale: ${join(out, p)} (run unipc-idl gen without --verify)`)
        if (stale.length === 0 && !json) io.out(`${outputs.size} generated file(s) up to date`)
        return stale.length === 0 ? 0 : 1
      }
      mkdirSync(out, { recursive: true })
      for (const [p, content] of outputs) {
        const target = join(out, p)
        const same = existsSync(target) && readFileSync(target, 'utf8') === content
        if (!same) writeFileSync(target, content)
        if (!json) io.out(`${same ? 'unchanged' : 'wrote'} ${target}`)
      }
      return 0
    }
    case 'init-server': {
      if (!need(1, true)) return 2
      const spec = load(files[0]!)
      if (!spec || !report([spec])) return 1
      if (!spec.root.service) {
        io.err(`unipc-idl init-server: ${spec.root.path} has no service line`)
        return 1
      }
      const dir = out ?? '.'
      const target = join(dir, starterPath(spec))
      if (existsSync(target)) {
        io.out(`${target} exists; left unchanged (init-server never overwrites)`)
        return 0
      }
      mkdirSync(dir, { recursive: true })
      writeFileSync(target, starterServer(spec))
      io.out(`wrote ${target}`)
      return 0
    }
    case 'diff': {
      if (!need(2, true)) return 2
      const before = load(files[0]!)
      const after = load(files[1]!)
      if (!before || !after) return 1
      if (!report([before, after])) return 1
      if (!before.root.service || !after.root.service) {
        io.err('unipc-idl diff: both specs need a service line')
        return 1
      }
      const d = diffSpecs(before, after)
      if (json) io.out(JSON.stringify(d, null, 2))
      else if (d.changes.length === 0) io.out(d.equal ? 'no changes' : 'no changes to the contract')
      else for (const c of d.changes) io.out(formatChange(c))
      return d.breaking ? 1 : 0
    }
    default:
      io.err(`unipc-idl: unknown command '${command}'\n\n${USAGE}`)
      return 2
  }
}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      verify: { type: 'boolean' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const format = values.format ?? 'text'
  if (format !== 'text' && format !== 'json')
    throw new Error(`--format must be text or json, not '${format}'`)
  return {
    command: values.help ? 'help' : positionals[0],
    files: positionals.slice(1),
    out: values.out,
    verify: values.verify === true,
    json: format === 'json',
  }
}

/** True when this module is the program being run (not imported). */
function isMain(): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) process.exitCode = runCli(process.argv.slice(2))
