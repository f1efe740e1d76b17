/** The README's runnable example runs and prints what the README says. */
import { fileURLToPath } from 'node:url'
import { spawnTs } from '@unipc/testkit'
import { expect, it } from 'vitest'

it('runs the quickstart example from the README', async () => {
  const child = spawnTs(fileURLToPath(new URL('../../examples/quickstart.ts', import.meta.url)))
  try {
    expect(await child.exited).toBe(0)
    expect(child.stdout().trim().split('\n')).toEqual([
      "get: { id: '1', name: 'Ann', age: 20 }",
      'list: Ann',
      'list: Bob',
      'not found: 9',
    ])
  } finally {
    await child.kill('SIGKILL')
  }
})
