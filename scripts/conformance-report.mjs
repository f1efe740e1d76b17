#!/usr/bin/env node
/**
 * `npm run conformance`: runs the conformance suite of every transport present in the repository
 * and writes docs/conformance.md, a matrix of transports x cases built from vitest's JSON report.
 *
 * A transport takes part by having a test file that calls runConformance():
 *   packages/conformance/test/*.test.ts            (memory, the reference)
 *   packages/<transport>/test/**\/conformance*.test.ts
 * Transports that are not there yet are simply absent; a suite that fails to load shows as an
 * error column instead of stopping the report.
 *
 * Usage: node scripts/conformance-report.mjs [--from report.json] [--out docs/conformance.md]
 * Exit code: 1 when any case failed or a suite could not load (the document is written anyway).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const SUITE_PREFIX = 'conformance: '
const SKIP_MARKER = ' [skipped: '

const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const outFile = resolve(root, option('--out') ?? 'docs/conformance.md')

/** Test files that run the conformance suite. */
function findSuiteFiles() {
  const files = []
  const walk = (dir, match) => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'dist') continue
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path, match)
      else if (match(entry, path)) files.push(relative(root, path))
    }
  }
  walk(join(root, 'packages/conformance/test'), (name) => name === 'memory.test.ts')
  for (const pkg of readdirSync(join(root, 'packages'))) {
    if (pkg === 'conformance') continue
    walk(join(root, 'packages', pkg, 'test'), (name) => /^conformance.*\.test\.ts$/.test(name))
  }
  return files.sort()
}

/** Runs vitest on the suite files with the JSON reporter; returns the parsed report. */
function runSuites(files) {
  const reportFile = join(root, '.conformance-report.json')
  rmSync(reportFile, { force: true })
  console.log(`conformance: running ${files.length} suite file(s):\n  ${files.join('\n  ')}`)
  const result = spawnSync(
    'npx',
    ['vitest', 'run', '--config', 'scripts/conformance.vitest.config.ts', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, CONFORMANCE_REPORT: reportFile } },
  )
  if (!existsSync(reportFile)) {
    console.error(`conformance: vitest wrote no report (exit ${result.status}); nothing to tabulate`)
    process.exit(1)
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8'))
  rmSync(reportFile, { force: true })
  return report
}

/** Splits a test title into the case name and, for a skipped case, the reason. */
function parseTitle(title) {
  const i = title.indexOf(SKIP_MARKER)
  if (i < 0) return { name: title, reason: undefined }
  return { name: title.slice(0, i), reason: title.slice(i + SKIP_MARKER.length).replace(/\]$/, '') }
}

/** Builds { transports, groups: Map<group, Map<case, Map<transport, cell>>>, loadErrors }. */
function tabulate(report) {
  const transports = []
  const groups = new Map()
  const loadErrors = []
  for (const file of report.testResults ?? []) {
    const results = file.assertionResults ?? []
    if (results.length === 0 && file.status === 'failed') {
      loadErrors.push({ file: relative(root, file.name), message: String(file.message ?? 'failed to load') })
      continue
    }
    for (const a of results) {
      const [suite, group = '(ungrouped)'] = a.ancestorTitles ?? []
      if (!suite?.startsWith(SUITE_PREFIX)) continue
      const transport = suite.slice(SUITE_PREFIX.length)
      if (!transports.includes(transport)) transports.push(transport)
      const { name, reason } = parseTitle(a.title)
      if (!groups.has(group)) groups.set(group, new Map())
      const cases = groups.get(group)
      if (!cases.has(name)) cases.set(name, new Map())
      const status = a.status === 'passed' ? 'pass' : a.status === 'failed' ? 'fail' : 'skip'
      const why = status === 'fail' ? firstLine(a.failureMessages?.[0]) : reason
      cases.get(name).set(transport, { status, why, ms: a.duration })
    }
  }
  return { transports, groups, loadErrors }
}

function firstLine(text) {
  return String(text ?? '')
    .split('\n')[0]
    .slice(0, 160)
}

const escapeCell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ')

/** Renders the matrix as Markdown. */
function render({ transports, groups, loadErrors }, files) {
  const lines = []
  const totals = Object.fromEntries(transports.map((t) => [t, { pass: 0, fail: 0, skip: 0 }]))
  let caseCount = 0
  for (const cases of groups.values()) {
    caseCount += cases.size
    for (const cells of cases.values()) for (const [t, cell] of cells) totals[t][cell.status]++
  }
  lines.push('# Conformance matrix')
  lines.push('')
  lines.push(
    "Generated by `npm run conformance` (scripts/conformance-report.mjs) from vitest's JSON report; do not edit by hand.",
  )
  lines.push(
    'Each transport runs the same cases from `@unipc/conformance` (see packages/conformance/README.md). ' +
      'A case needing a feature the transport lacks is skipped with the reason; it is never silently absent.',
  )
  lines.push('')
  lines.push(
    `Generated: ${new Date().toISOString()} — ${caseCount} cases, ${transports.length} transport(s).`,
  )
  lines.push('')
  lines.push('Legend: ✅ pass · ❌ fail · ⏭️ skipped (reason in the notes below) · — not run')
  lines.push('')
  lines.push('## Summary')
  lines.push('')
  lines.push('| transport | passed | failed | skipped |')
  lines.push('|---|---|---|---|')
  for (const t of transports)
    lines.push(`| ${t} | ${totals[t].pass} | ${totals[t].fail} | ${totals[t].skip} |`)
  for (const e of loadErrors)
    lines.push(`| ${e.file} | suite failed to load: ${escapeCell(firstLine(e.message))} | | |`)
  lines.push('')
  const notes = []
  for (const [group, cases] of groups) {
    lines.push(`## ${group}`)
    lines.push('')
    lines.push(`| case | ${transports.join(' | ')} |`)
    lines.push(`|---|${transports.map(() => '---').join('|')}|`)
    for (const [name, cells] of cases) {
      const row = transports.map((t) => {
        const cell = cells.get(t)
        if (!cell) return '—'
        if (cell.status === 'pass') return '✅'
        // Skips share a note per transport and reason; each failure gets its own.
        const note =
          cell.status === 'fail'
            ? `**${t}** · ${group} · ${name}: failed: ${cell.why ?? ''}`
            : `**${t}**: skipped: ${cell.why ?? 'no reason given'}`
        let n = notes.indexOf(note) + 1
        if (n === 0 || cell.status === 'fail') n = notes.push(note)
        return cell.status === 'fail' ? `❌ [${n}]` : `⏭️ [${n}]`
      })
      lines.push(`| ${escapeCell(name)} | ${row.join(' | ')} |`)
    }
    lines.push('')
  }
  if (notes.length > 0) {
    lines.push('## Notes')
    lines.push('')
    notes.forEach((n, i) => {
      lines.push(`${i + 1}. ${escapeCell(n)}`)
    })
    lines.push('')
  }
  lines.push('## Suite files')
  lines.push('')
  for (const f of files) lines.push(`- ${f}`)
  lines.push('')
  return { markdown: lines.join('\n'), totals }
}

const from = option('--from')
const files = from ? ['(from ' + from + ')'] : findSuiteFiles()
if (!from && files.length === 0) {
  console.error('conformance: no suite files found')
  process.exit(1)
}
const report = from ? JSON.parse(readFileSync(from, 'utf8')) : runSuites(files)
const table = tabulate(report)
const { markdown, totals } = render(table, files)
mkdirSync(dirname(outFile), { recursive: true })
writeFileSync(outFile, markdown)
const failed = Object.values(totals).reduce((n, t) => n + t.fail, 0)
for (const [t, c] of Object.entries(totals))
  console.log(`conformance: ${t}: ${c.pass} passed, ${c.fail} failed, ${c.skip} skipped`)
for (const e of table.loadErrors) console.log(`conformance: ${e.file} failed to load`)
console.log(`conformance: wrote ${relative(root, outFile)}`)
process.exit(failed > 0 || table.loadErrors.length > 0 ? 1 : 0)
