/**
 * A StudentSystem server in its own process, built on the generated base class:
 * `student-server-child.ts <generated dir> <url>`. Prints `ready` once serving; stops on SIGTERM.
 */
import { join } from 'node:path'
import { connect } from '@unipc/core'

type StudentModule = typeof import('../golden/student.js')
type Student = import('../golden/student.js').Student

const [dir, url] = process.argv.slice(2) as [string, string]
const gen = (await import(join(dir, 'student.ts'))) as StudentModule
const students = new Map<string, Student>()

class StudentSystemImpl extends gen.StudentSystemServer {
  override get_student(id: string): Student {
    const s = students.get(id)
    if (!s) throw new gen.StudentNotFound()
    return s
  }
  override async update_student(info: Student): Promise<void> {
    students.set(info.id, info)
    await this.student_added(Date.now() / 1000, info)
  }
}

const bus = await connect(url, { component: gen.StudentSystemComponent })
const server = new StudentSystemImpl()
await server.start(bus)
process.stdout.write('ready\n')
process.once('SIGTERM', () => {
  void server
    .stop()
    .then(() => bus.close())
    .finally(() => process.exit(0))
})
