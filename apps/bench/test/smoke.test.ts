/**
 * Keeps the benchmark from rotting: runs `--quick` on one scenario for the node:net baseline and
 * the memory transport in real child processes, and checks the shape of the reports. It never
 * asserts speed: speed belongs in the benchmark itself.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@unipc/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import type { BenchResults } from '../src/harness/results.js'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx')
const out = tempDir('unipc-bench-smoke-')
afterAll(() => out.cleanup())

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, main, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('npm run bench --quick', () => {
  it('measures the rtt of the node:net baseline and unipc memory and writes the table, Markdown and JSON', async () => {
    const r = await runBench([
      '--quick',
      '--scenario',
      'rtt',
      '--only',
      'net-msgpack unix,unipc memory',
      '--out',
      out.path,
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/net-msgpack unix/)
    expect(r.stdout).toMatch(/unipc memory/)
    const json = JSON.parse(readFileSync(join(out.path, 'benchmarks.json'), 'utf8')) as BenchResults
    expect(json.meta.mode).toBe('quick')
    expect(json.meta.node).toBe(process.version)
    expect(json.systems.map((s) => s.name).sort()).toEqual(['net-msgpack unix', 'unipc memory'])
    expect(json.cells).toHaveLength(2)
    for (const cell of json.cells) {
      expect(cell.scenario).toBe('rtt')
      expect(cell.status, cell.reason).toBe('ok')
      expect(cell.runs).toHaveLength(1)
      expect(Number.isFinite(cell.value?.median)).toBe(true)
      expect(cell.value!.median).toBeGreaterThan(0)
      expect(cell.extras?.p99?.median).toBeGreaterThanOrEqual(cell.value!.median)
    }
    const md = readFileSync(join(out.path, 'benchmarks.md'), 'utf8')
    for (const heading of ['# Benchmarks', '## Machine', '## Results', '## Ratios', '## Targets']) {
      expect(md).toContain(heading)
    }
    expect(md).toMatch(/\| unipc memory \| net-msgpack unix \| [\d.]+× \|/)
  }, 60_000)

  it('rejects an unknown scenario with a usage message and writes nothing', async () => {
    const dir = tempDir('unipc-bench-smoke-')
    try {
      const r = await runBench(['--scenario', 'nope', '--out', dir.path])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/unknown scenario 'nope'; known: rtt, throughput/)
      expect(existsSync(join(dir.path, 'benchmarks.json'))).toBe(false)
    } finally {
      dir.cleanup()
    }
  })
})
