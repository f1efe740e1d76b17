import { defineError, defineService, type Infer, type ParamsOf, type ResultOf, t } from '../../src/index.js'
import { Tree } from '../fixtures/tree.js'

const Student = t.model('Student', {
  id: t.string(),
  age: t.uint8(),
  nick: t.optional(t.string()),
  tags: t.array(t.enum(['a', 'b'])),
})
type Student = Infer<typeof Student>
const s: Student = { id: 'x', age: 3, tags: ['a'] }
type TT = Infer<typeof Tree>
const tt: TT = { name: 'a', kids: [{ name: 'b', kids: [] }] }
const NotFound = defineError('StudentNotFound', { id: t.string() })
const e = new NotFound({ id: 'x' })
const eid: string = e.id
const Empty = defineError('Empty')
new Empty()
const svc = defineService({
  name: 'school.Students',
  version: '1.0.0',
  methods: {
    get: { params: t.object({ id: t.string() }), result: Student, errors: [NotFound] },
    list: { params: t.object({ limit: t.optional(t.uint32()) }), result: Student, stream: true },
    tree: { result: Tree },
    u: { params: t.object({ v: t.union([t.string(), t.int32()]), m: t.map(t.string(), t.binary()) }) },
  },
})
type P = ParamsOf<typeof svc.spec.get>
const p: P = { id: 'x' }
type L = ParamsOf<typeof svc.spec.list>
const l: L = {}
type R = ResultOf<typeof svc.spec.get>
const r: R = s
type U = ParamsOf<typeof svc.spec.u>
const u: U = { v: 3, m: new Map() }
// @ts-expect-error wrong type
const bad: P = { id: 3 }
console.log(p, l, r, u, tt, eid, bad, svc.fingerprint)
// @ts-expect-error missing required field
const missing: P = {}
// @ts-expect-error enum value
const badEnum: Student = { id: 'x', age: 1, tags: ['c'] }
// @ts-expect-error error field type
new NotFound({ id: 1 })
// @ts-expect-error error fields required
new NotFound()
const rv: ResultOf<typeof svc.spec.u> = undefined
console.log(missing, badEnum, rv)
const optionalResult = defineService({ name: 'opt', methods: { m: { result: t.optional(t.string()) } } })
const none: ResultOf<typeof optionalResult.spec.m> = undefined
// @ts-expect-error a number is not an optional string
const notNone: ResultOf<typeof optionalResult.spec.m> = 3
console.log(none, notNone)
