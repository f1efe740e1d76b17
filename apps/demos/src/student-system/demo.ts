/**
 * student-system (LibMedium): the StudentSystem daemon and the find-student app; exceptions raised
 * in the daemon are raised in the app as the same class; events go to all apps or to one.
 * @module
 */
import type { Bus } from '@unipc/core'
import { createClient, serve } from '@unipc/rpc-streams'
import { connectAs, type Demo, type DemoContext, expectThat, show, waitUntil } from '../demo.js'
import {
  STUDENT_ADDED,
  type Student,
  type StudentAdded,
  StudentNotFound,
  StudentSystem,
  studentAddedTo,
} from './service.js'

/** Starts the daemon: keeps students in memory and announces new ones. */
async function startDaemon(ctx: DemoContext): Promise<Bus> {
  const bus = await connectAs(ctx, 'student-daemon')
  const students = new Map<string, Student>()
  await serve(bus, StudentSystem, {
    get_student({ id }) {
      const s = students.get(id)
      if (!s) {
        ctx.say('daemon', `get_student(${id}): raising StudentNotFound`)
        throw new StudentNotFound({ id })
      }
      return s
    },
    async update_student({ info }, call) {
      const added = !students.has(info.id)
      students.set(info.id, info)
      ctx.say('daemon', `update_student(${info.id}) ${added ? 'added' : 'updated'}`)
      if (added) {
        const event: StudentAdded = { time: Date.now() / 1000, info }
        await bus.events.publish(STUDENT_ADDED, event)
        if (call.caller) await bus.events.publish(studentAddedTo(call.caller), event)
      }
    },
  })
  return bus
}

export const studentSystemDemo: Demo = {
  name: 'student-system',
  title: 'LibMedium: the StudentSystem daemon and the find-student app, from the StudentSystem spec',
  async run(ctx) {
    const daemon = await startDaemon(ctx)
    try {
      await using app = await connectAs(ctx, 'find-student')
      await using other = await connectAs(ctx, 'roster')
      const toAll: string[] = []
      const toMe: string[] = []
      const seen = (list: string[], who: string) => (e: { channel: string; data: StudentAdded }) => {
        list.push(e.data.info.id)
        ctx.say(who, `event ${e.channel}: ${e.data.info.first_name} ${e.data.info.last_name}`)
      }
      const subs = [
        other.events.subscribe<StudentAdded>(STUDENT_ADDED),
        app.events.subscribe<StudentAdded>(studentAddedTo('find-student')),
      ]
      subs[0]!.subscribe(seen(toAll, 'roster'))
      subs[1]!.subscribe(seen(toMe, 'find-student'))
      await Promise.all(subs.map((s) => s.ready))

      const students = createClient(app, StudentSystem, { timeout: 5000 })
      const ada: Student = {
        id: 's1',
        first_name: 'Ada',
        last_name: 'Lovelace',
        age: 36,
        photo: new Uint8Array([1, 2, 3]),
      }
      await students.update_student({ info: ada })
      ctx.say('find-student', 'update_student(Ada) done')
      const found = await students.get_student({ id: 's1' })
      ctx.say('find-student', `get_student(s1) = ${show(found)}`)
      expectThat(found.first_name === 'Ada' && found.photo.length === 3, 'the app finds the student it added')
      const missing = await students.get_student({ id: 'nope' }).catch((e: unknown) => e)
      expectThat(missing instanceof StudentNotFound, 'the daemon’s StudentNotFound arrives as the same class')
      ctx.say(
        'find-student',
        `get_student(nope) raised ${(missing as Error).name}: ${(missing as Error).message}`,
      )
      await waitUntil(() => toAll.length === 1 && toMe.length === 1)
      ctx.say(
        'both',
        'student_added went to every app, and a copy addressed to find-student alone reached it',
      )
      for (const s of subs) await s.close()
    } finally {
      await daemon.close()
    }
  },
}
