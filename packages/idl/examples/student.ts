/**
 * Runnable example: generate TypeScript from LibMedium's StudentSystem spec, then run a server and
 * a client over the in-process memory transport.
 *   node --conditions=source --import tsx packages/idl/examples/student.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, ValidationError } from '@unipc/core'
import { runCli } from '../src/index.js'

type Gen = typeof import('../test/golden/student.js')
type Student = import('../test/golden/student.js').Student

const here = fileURLToPath(new URL('.', import.meta.url))
const out = mkdtempSync(join(here, '.generated-'))
try {
  // 1. unipc-idl gen student.unipc --out <dir>
  if (runCli(['gen', join(here, '../test/fixtures/student.unipc'), '--out', out]) !== 0) process.exit(1)
  const { StudentNotFound, StudentSystemClient, StudentSystemServer } = (await import(
    join(out, 'student.ts')
  )) as Gen

  // 2. The server: one method per spec member, LibMedium style.
  class StudentSystemImpl extends StudentSystemServer {
    readonly #students = new Map<string, Student>()
    override get_student(id: string): Student {
      const s = this.#students.get(id)
      if (!s) throw new StudentNotFound()
      return s
    }
    override async update_student(info: Student): Promise<void> {
      this.#students.set(info.id, info)
      await this.student_added(Date.now() / 1000, info)
    }
  }
  const serverBus = await connect('memory://example', { component: 'StudentSystem' })
  const server = new StudentSystemImpl()
  await server.start(serverBus)

  // 3. The client.
  const clientBus = await connect('memory://example', { component: 'ui' })
  const client = new StudentSystemClient(clientBus)
  const added = client.student_added()
  added.subscribe((e) => console.log(`event student_added: ${e.info.first_name}`))
  await added.ready
  await client.update_student({
    id: '1',
    first_name: 'Ada',
    last_name: 'Lovelace',
    age: 36,
    photo: new Uint8Array(),
  })
  const ada = await client.get_student('1')
  console.log(`get_student: ${ada.first_name} ${ada.last_name}, ${ada.age}`)
  const missing = await client.get_student('2').catch((e: unknown) => e)
  console.log(`get_student('2') threw StudentNotFound: ${missing instanceof StudentNotFound}`)
  const bad = await client
    .update_student({ id: '3', first_name: 'X', last_name: 'Y', age: 300, photo: new Uint8Array() })
    .catch((e: unknown) => e)
  console.log(`age 300: ${bad instanceof ValidationError ? (bad as Error).message : 'accepted?!'}`)

  await added.close()
  await server.stop()
  await clientBus.close()
  await serverBus.close()
} finally {
  rmSync(out, { recursive: true, force: true })
}
