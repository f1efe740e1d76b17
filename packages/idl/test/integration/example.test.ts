import { fileURLToPath } from 'node:url'
import { spawnTs } from '@unipc/testkit'
import { expect, it } from 'vitest'

it('the README example (examples/student.ts) runs and prints what it promises', async () => {
  const child = spawnTs(fileURLToPath(new URL('../../examples/student.ts', import.meta.url)))
  expect(await child.exited, child.stderr()).toBe(0)
  expect(child.stdout()).toContain('event student_added: Ada')
  expect(child.stdout()).toContain('get_student: Ada Lovelace, 36')
  expect(child.stdout()).toContain("get_student('2') threw StudentNotFound: true")
  expect(child.stdout()).toContain(
    'age 300: params.info.age: expected an integer in 0..255 (uint8), got number 300',
  )
}, 60_000)
