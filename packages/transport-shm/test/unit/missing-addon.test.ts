import { cpSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTs, tempDir } from '@unipc/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const pkg = fileURLToPath(new URL('../..', import.meta.url))
const dir = tempDir('unipc-shm-noaddon-')
afterAll(() => dir.cleanup())

describe('without a native build', () => {
  it('importing the package fails with an error naming what to install, and other transports still work', async () => {
    // A copy of the package sources with no build/ and no prebuilds/, as after an install without a compiler.
    const copy = join(dir.path, 'transport-shm')
    mkdirSync(copy)
    cpSync(join(pkg, 'src'), join(copy, 'src'), { recursive: true })
    cpSync(join(pkg, 'package.json'), join(copy, 'package.json'))
    symlinkSync(join(pkg, '..', '..', 'node_modules'), join(copy, 'node_modules'))
    const child = spawnTs(fileURLToPath(new URL('../fixtures/no-addon.ts', import.meta.url)), [
      join(copy, 'src', 'index.ts'),
    ])
    expect(await child.exited).toBe(0)
    const [first, second] = child.stdout().trim().split('\n')
    const failure = JSON.parse(first as string) as { code: string; message: string }
    expect(failure.code).toBe('UNIPC_TRANSPORT_MISSING')
    expect(failure.message).toMatch(/C\+\+ toolchain/)
    expect(failure.message).toMatch(/npm rebuild @unipc\/transport-shm/)
    expect(second).toBe('memory works: 1')
  })
})
