import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { diagnosticToJson, formatDiagnostic, suggest } from '../../src/diagnostics.js'
import { loadSpec } from '../../src/load.js'
import { parse } from '../../src/parser.js'

const brokenDir = fileURLToPath(new URL('../fixtures/broken/', import.meta.url))
const update = process.env.UPDATE_GOLDEN === '1'

/** Loads a broken spec by its bare name, so the expected text does not depend on the checkout path. */
function diagnosticsOf(name: string): string {
  const spec = loadSpec(name, (p) => readFileSync(join(brokenDir, p), 'utf8'))
  return `${spec.diagnostics.map((d) => formatDiagnostic(d, spec.sources.get(d.file))).join('\n\n')}\n`
}

describe('broken specs get the expected diagnostics', () => {
  const specs = readdirSync(brokenDir).filter((f) => f.endsWith('.unipc') && f !== 'missing.unipc')
  it('the corpus is not empty', () => {
    expect(specs.length).toBeGreaterThanOrEqual(7)
  })
  for (const name of specs) {
    it(name, () => {
      const actual = diagnosticsOf(name)
      const expectedPath = join(brokenDir, name.replace(/\.unipc$/, '.expected'))
      if (update) writeFileSync(expectedPath, actual)
      expect(actual).toBe(readFileSync(expectedPath, 'utf8'))
    })
  }
})

describe('diagnostics', () => {
  it('reports every syntax error of a file in one run, each with line and column', () => {
    const { diagnostics } = parse(readFileSync(join(brokenDir, 'syntax.unipc'), 'utf8'), 'syntax.unipc')
    expect(diagnostics.map((d) => [d.span.line, d.span.col, d.code])).toEqual([
      [5, 6, 'E010'],
      [7, 9, 'E010'],
      [10, 1, 'E011'],
      [11, 36, 'E010'],
      [13, 30, 'E001'],
      [14, 28, 'E002'],
    ])
  })

  it('formats the source line with a caret under the token and a did-you-mean hint', () => {
    const src = 'service S\nmodel A {\n  x: strng\n}\n'
    const spec = loadSpec('a.unipc', () => src)
    expect(formatDiagnostic(spec.diagnostics[0]!, src)).toBe(
      [
        "a.unipc:3:6: error[E021]: unknown type 'strng'",
        '  |',
        '3 |   x: strng',
        '  |      ^^^^^',
        "  = help: did you mean 'string'?",
      ].join('\n'),
    )
  })

  it('gives diagnostics as JSON for tools', () => {
    const spec = loadSpec('a.unipc', () => 'service S\nmodel A { age: uint8 = 300 }\n')
    expect(spec.diagnostics.map(diagnosticToJson)).toEqual([
      {
        file: 'a.unipc',
        line: 2,
        column: 24,
        endColumn: 27,
        severity: 'error',
        code: 'E024',
        message: '300 is out of range for uint8 (0..255)',
      },
    ])
  })

  it("reads LibMedium's unquoted socket path, and a field named socket as a field", () => {
    const { file, diagnostics } = parse('class S\nsocket /run/s.sock\nmodel M {\n  socket: string\n}\n')
    expect(diagnostics).toEqual([])
    expect(file.socket?.path).toBe('/run/s.sock')
    expect(file.types[0]?.kind === 'model' && file.types[0].fields[0]?.name).toBe('socket')
  })

  it('suggests only near misses', () => {
    expect(suggest('Studnet', ['Student', 'Teacher'])).toBe('Student')
    expect(suggest('xyz', ['Student', 'Teacher'])).toBeUndefined()
    expect(suggest('student', ['Student'])).toBe('Student')
  })
})

describe('parser robustness', () => {
  const source = readFileSync(fileURLToPath(new URL('../fixtures/everything.unipc', import.meta.url)), 'utf8')
  const common = readFileSync(fileURLToPath(new URL('../fixtures/common.unipc', import.meta.url)), 'utf8')
  const junk = [
    '{',
    '}',
    '(',
    ')',
    ':',
    '=',
    '?',
    '*',
    '@',
    '"',
    '0x',
    '0x ',
    '1e',
    '1e+ ',
    '0x_',
    '-',
    '<',
    '>',
    ',',
    '///',
    '/*',
    '\n',
    'map',
    'method',
    'x',
  ]

  it('never throws on 1000 randomly damaged specs, and every diagnostic points into the file', () => {
    let seed = 42
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 1000; round++) {
      let text = source
      for (let k = 0; k < 1 + rand(5); k++) {
        const at = rand(text.length)
        text =
          rand(2) === 0
            ? text.slice(0, at) + text.slice(at + 1 + rand(20))
            : text.slice(0, at) + junk[rand(junk.length)] + text.slice(at)
      }
      const spec = loadSpec('x.unipc', (p) => (p === 'x.unipc' ? text : common))
      const lines = text.split('\n')
      for (const d of spec.diagnostics.filter((x) => x.file === 'x.unipc')) {
        expect(d.span.line, text).toBeGreaterThanOrEqual(1)
        expect(d.span.line, text).toBeLessThanOrEqual(lines.length)
        expect(d.span.col, text).toBeGreaterThanOrEqual(1)
        expect(formatDiagnostic(d, text)).toContain(`x.unipc:${d.span.line}:${d.span.col}:`)
      }
    }
  })
})
