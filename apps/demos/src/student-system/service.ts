/**
 * The StudentSystem service from its LibMedium spec (apps/demos/src/student-system/student.unipc),
 * written in the form @unipc/idl's generator emits: models, declared errors and the service
 * definition for @unipc/rpc-streams.
 * @module
 */
import { defineError, defineService, type Infer, t } from '@unipc/rpc-streams'

/** A student (spec: `model Student`). */
export const Student = t.model('Student', {
  id: t.string(),
  first_name: t.string(),
  last_name: t.string(),
  age: t.uint8(),
  photo: t.binary(),
})
export type Student = Infer<typeof Student>

/** Raised by the daemon when no student has the id (spec: `exception StudentNotFound`). */
export const StudentNotFound = defineError(
  'StudentNotFound',
  { id: t.string() },
  {
    message: (f) => `no student with id ${f.id}`,
  },
)

/** The daemon's methods (spec: `class StudentSystem`, namespace com.pcthingz.libmedium.student). */
export const StudentSystem = defineService({
  name: 'StudentSystem',
  version: '1.0.0',
  methods: {
    get_student: { params: t.object({ id: t.string() }), result: Student, errors: [StudentNotFound] },
    update_student: { params: t.object({ info: Student }) },
  },
})

/** Event `student_added(time: double, info: Student)`, to all apps. */
export const STUDENT_ADDED = 'StudentSystem.student_added'

/** The same event addressed to one app only. */
export function studentAddedTo(app: string): string {
  return `StudentSystem.to.${app}.student_added`
}

/** Payload of `student_added`. */
export interface StudentAdded {
  time: number
  info: Student
}
