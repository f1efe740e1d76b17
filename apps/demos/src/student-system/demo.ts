/**
 * student-system (LibMedium): the StudentSystem daemon and the find-student app, both built on the
 * code `unipc-idl` generated from the StudentSystem spec (./student.unipc -> ./generated/student.ts).
 * Exceptions raised in the daemon are raised in the app as the same class; events go to all apps
 * (the generated `student_added`) or to one app (a channel addressed to it).
 * @module
 */
import type { Bus } from '@unipc/core'
import type { ServiceContext } from '@unipc/rpc-streams'
import { connectAs, type Demo, type DemoContext, expectThat, show, waitUntil } from '../demo.js'
import {
  type Student,
  StudentNotFound,
  StudentSystemClient,
  StudentSystemComponent,
  StudentSystemServer,
} from './generated/student.js'

/** The channel of `student_added` addressed to one app only. */
export function studentAddedTo(app: string): string {
  return `${StudentSystemComponent}.to.${app}.student_added`
}

/** The daemon: the generated server base class with the two methods filled in. */
class StudentDaemon extends StudentSystemServer {
  readonly #students = new Map<string, Student>()

  constructor(private readonly ctx: DemoContext) {
    super()
  }

  override get_student(id: string): Student {
    const s = this.#students.get(id)
    if (s) return s
    this.ctx.say('daemon', `get_student(${id}): raising StudentNotFound`)
    throw new StudentNotFound()
  }

  override async update_student(info: Student, call: ServiceContext): Promise<void> {
    const added = !this.#students.has(info.id)
    this.#students.set(info.id, info)
    this.ctx.say('daemon', `update_student(${info.id}) ${added ? 'added' : 'updated'}`)
    if (!added) return
    const time = Date.now() / 1000
    await this.student_added(time, info)
    if (call.caller) await this.bus.events.publish(studentAddedTo(call.caller), { time, info })
  }
}

export const studentSystemDemo: Demo = {
  name: 'student-system',
  title:
    'LibMedium: the StudentSystem daemon and the find-student app, generated from the StudentSystem spec',
  async run(ctx) {
    const daemonBus: Bus = await connectAs(ctx, StudentSystemComponent)
    const daemon = new StudentDaemon(ctx)
    await daemon.start(daemonBus)
    try {
      await using app = await connectAs(ctx, 'find-student')
      await using roster = await connectAs(ctx, 'roster')
      const toAll: string[] = []
      const toMe: string[] = []
      const everyone = new StudentSystemClient(roster).student_added()
      everyone.subscribe((e) => {
        toAll.push(e.info.id)
        ctx.say('roster', `event student_added: ${e.info.first_name} ${e.info.last_name}`)
      })
      const mine = app.events.subscribe<{ info: Student }>(studentAddedTo('find-student'))
      mine.subscribe((e) => {
        toMe.push(e.data.info.id)
        ctx.say('find-student', `event ${e.channel}: ${e.data.info.first_name}`)
      })
      await Promise.all([everyone.ready, mine.ready])

      const students = new StudentSystemClient(app, { timeout: 5000 })
      const ada: Student = {
        id: 's1',
        first_name: 'Ada',
        last_name: 'Lovelace',
        age: 36,
        photo: new Uint8Array([1, 2, 3]),
      }
      await students.update_student(ada)
      ctx.say('find-student', 'update_student(Ada) done')
      const found = await students.get_student('s1')
      ctx.say('find-student', `get_student(s1) = ${show(found)}`)
      expectThat(found.first_name === 'Ada' && found.photo.length === 3, 'the app finds the student it added')
      const missing = await students.get_student('nope').catch((e: unknown) => e)
      expectThat(missing instanceof StudentNotFound, 'the daemon’s StudentNotFound arrives as the same class')
      ctx.say('find-student', `get_student(nope) raised ${(missing as Error).name}`)
      await waitUntil(() => toAll.length === 1 && toMe.length === 1)
      ctx.say(
        'both',
        'student_added went to every app, and a copy addressed to find-student alone reached it',
      )
      await everyone.close()
      await mine.close()
    } finally {
      await daemon.stop()
      await daemonBus.close()
    }
  },
}
