/**
 * A typed service in one file: run with
 *   node --conditions=source --import tsx packages/rpc-streams/examples/quickstart.ts [url]
 * (default url `memory:`; try a `unix:`, `redis:` or `shm:` URL with a hub/Redis running).
 */
import { connect } from '@unipc/core'
import { createClient, defineError, defineService, serve, t } from '@unipc/rpc-streams'

const Student = t.model('Student', { id: t.string(), name: t.string(), age: t.uint8() })
const StudentNotFound = defineError(
  'StudentNotFound',
  { id: t.string() },
  { message: (f) => `no student ${f.id}` },
)

const Students = defineService({
  name: 'school.Students',
  version: '1.0.0',
  methods: {
    get: { params: t.object({ id: t.string() }), result: Student, errors: [StudentNotFound] },
    list: { params: t.object({ limit: t.optional(t.uint32()) }), result: Student, stream: true },
  },
})

const url = process.argv[2] ?? 'memory:'
const server = await connect(url, { component: 'school' })
const app = await connect(url, { component: 'app' })

const db = new Map([
  ['1', { id: '1', name: 'Ann', age: 20 }],
  ['2', { id: '2', name: 'Bob', age: 22 }],
])
await serve(server, Students, {
  get({ id }) {
    const s = db.get(id)
    if (!s) throw new StudentNotFound({ id })
    return s
  },
  *list({ limit = Number.POSITIVE_INFINITY }, ctx) {
    let n = 0
    for (const s of db.values()) {
      if (n++ >= limit || ctx.signal.aborted) return
      yield s
    }
  },
})

const students = createClient(app, Students)
console.log('get:', await students.get({ id: '1' }))
for await (const s of students.list({ limit: 10 })) console.log('list:', s.name)
try {
  await students.get({ id: '9' })
} catch (err) {
  if (err instanceof StudentNotFound) console.log('not found:', err.id)
}
await app.close()
await server.close()
