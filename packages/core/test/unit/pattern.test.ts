import { describe, expect, it } from 'vitest'
import { assertChannel, compilePattern, InvalidArgumentError, matchChannel } from '../../src/index.js'

describe('channel patterns', () => {
  const cases: [string, string, boolean][] = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.b.c', false],
    ['a.b', 'a', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.*', 'a', false],
    ['*.b', 'x.b', true],
    ['a.*.c', 'a.x.c', true],
    ['a.*.c', 'a.x.y.c', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'anything.at.all', true],
    ['cam*.start', 'camera.start', true],
    ['cam*.start', 'mic.start', false],
    ['*', 'one', true],
    ['*', 'one.two', false],
    ['größe.*', 'größe.日本', true],
    ['a.b', 'a.bx', false],
    ['a.b+', 'a.b+', true],
    ['a.(x|y)', 'a.x', false],
  ]
  for (const [pattern, channel, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${channel}'`, () => {
      expect(matchChannel(pattern, channel)).toBe(expected)
    })
  }

  it('hides $-reserved channels from wildcard first tokens but not from literal ones', () => {
    expect(compilePattern('>')('$unipc.trace.x')).toBe(false)
    expect(compilePattern('*.trace.x')('$unipc.trace.x')).toBe(false)
    expect(compilePattern('$unipc.>')('$unipc.trace.x')).toBe(true)
  })

  it('rejects malformed patterns with InvalidArgumentError', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a.>.b', 'a>', '>.a']) {
      expect(() => compilePattern(bad), bad).toThrow(InvalidArgumentError)
    }
  })

  it('rejects publishing to wildcard or malformed channels', () => {
    for (const bad of ['', 'a.*', 'a.>', 'a..b', '.a'])
      expect(() => assertChannel(bad), bad).toThrow(InvalidArgumentError)
    expect(() => assertChannel('a.b.c')).not.toThrow()
  })

  it('gives each channel its own answer when one matcher sees runs and alternations', () => {
    const m = compilePattern('cam.*.frame')
    const seen = ['cam.1.frame', 'cam.1.frame', 'cam.1.meta', 'cam.1.meta', 'cam.2.frame', 'cam.1.meta'].map(
      m,
    )
    expect(seen).toEqual([true, true, false, false, true, false])
  })
})
