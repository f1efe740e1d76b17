import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { withoutLocations } from '../../src/ast-utils.js'
import { formatDiagnostic } from '../../src/diagnostics.js'
import { parse } from '../../src/parser.js'
import { printSpec } from '../../src/printer.js'
import { randomSpec } from './random-spec.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')

function roundTrip(text: string): void {
  const first = parse(text, 'a.unipc')
  expect(first.diagnostics).toEqual([])
  const printed = printSpec(first.file)
  const second = parse(printed, 'a.unipc')
  expect(second.diagnostics.map((d) => formatDiagnostic(d, printed))).toEqual([])
  expect(withoutLocations(second.file)).toEqual(withoutLocations(first.file))
  // Canonical text is a fixed point.
  expect(printSpec(second.file)).toBe(printed)
}

describe('printer', () => {
  it('prints the LibMedium StudentSystem spec in canonical form', () => {
    const printed = printSpec(parse(fixture('student.unipc')).file)
    expect(printed).toBe(`namespace com.pcthingz.libmedium.student
service StudentSystem

model Student {
  id: string
  first_name: string
  last_name: string
  age: uint8
  photo: binary
}

error StudentNotFound

method get_student(id: string): Student
method update_student(info: Student)
event student_added(time: float64, info: Student)
`)
  })

  it('round-trips the spec that uses every construct', () => {
    roundTrip(fixture('everything.unipc'))
    roundTrip(fixture('student.unipc'))
    roundTrip(fixture('libmedium-style.unipc'))
  })

  it('round-trips 500 random specs: print -> parse gives the same tree', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const ast = randomSpec(seed)
      const printed = printSpec(ast)
      const parsed = parse(printed, 'random.unipc')
      const problems = parsed.diagnostics.map((d) => formatDiagnostic(d, printed))
      expect(problems, `seed ${seed}:\n${printed}`).toEqual([])
      expect(withoutLocations(parsed.file), `seed ${seed}:\n${printed}`).toEqual(withoutLocations(ast))
    }
  })
})
