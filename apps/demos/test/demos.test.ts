import { fileURLToPath } from 'node:url'
import { crossProcessTransports, type RunningTransport, spawnTs } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demos, runDemos } from '../src/index.js'

async function runAll(
  url: string,
): Promise<{ lines: string[]; results: Awaited<ReturnType<typeof runDemos>> }> {
  const lines: string[] = []
  const results = await runDemos(demos, { url, write: (l) => lines.push(l), color: false })
  return { lines, results }
}

function expectNarration(lines: string[]): void {
  const text = lines.join('\n')
  expect(text).toContain('controller   sent {"op":"snap"}, reply {"frame":1,"exposure":30}')
  expect(text).toContain('left         asked right, got "HELLO FROM LEFT"')
  expect(text).toContain('find-student get_student(nope) raised StudentNotFound')
  expect(text).toContain('client       repeat("hi", 3) streamed ["hi #1","hi #2","hi #3"]')
}

describe('demos on memory:', () => {
  it('run in one process, skipping only the one that needs several processes', async () => {
    const { lines, results } = await runAll(`memory://demos-${Date.now()}`)
    expect(results.filter((r) => !r.ok)).toEqual([])
    expect(results.filter((r) => r.skipped).map((r) => r.name)).toEqual(['background-server'])
    expectNarration(lines)
  })
})

describe('demos on a transport that is not there', () => {
  it('say so once, with what to try, and fail every demo', async () => {
    const lines: string[] = []
    const results = await runDemos(demos, {
      url: 'unix:///nonexistent-dir/hub.sock',
      write: (l) => lines.push(l),
    })
    expect(results.every((r) => !r.ok)).toBe(true)
    expect(lines.filter((l) => l.startsWith('cannot connect'))).toHaveLength(1)
    expect(lines.join('\n')).toContain('try --url memory:')
  })
})

for (const transport of crossProcessTransports()) {
  describe.skipIf(transport.skip !== undefined)(
    `demos on ${transport.name}${transport.skip ? ` (skipped: ${transport.skip})` : ''}`,
    () => {
      let running: RunningTransport | undefined
      beforeAll(async () => {
        running = await transport.start()
      })
      afterAll(async () => {
        await running?.stop()
      })

      it('all five pass, including the background server that outlives its starter', {
        timeout: 60_000,
      }, async () => {
        const { lines, results } = await runAll(running!.url)
        expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error?.message}`)).toEqual([])
        expect(results.every((r) => !r.skipped)).toBe(true)
        expectNarration(lines)
        expect(lines.join('\n')).toMatch(/client {7}server process \d+ has exited/)
      })
    },
  )
}

describe('student-system', () => {
  it('uses code that unipc-idl generates from its spec, up to date', async () => {
    // The same command as `npm run generate -w apps/demos`, with --verify.
    const cwd = fileURLToPath(new URL('../', import.meta.url))
    const cli = fileURLToPath(new URL('../../../packages/idl/src/cli.ts', import.meta.url))
    const args = [
      'gen',
      'src/student-system/student.unipc',
      '--out',
      'src/student-system/generated',
      '--verify',
    ]
    const run = spawnTs(cli, args, { cwd })
    expect(await run.exited, run.stdout() + run.stderr()).toBe(0)
  })
})
