import { InvalidArgumentError } from '@unipc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTransport } from '../../src/index.js'

// Option parsing of createTransport (nothing is opened: the constructor only keeps the settings).
describe('shm options', () => {
  const saved = process.env.UNIPC_SHM_SPIN
  afterEach(() => {
    if (saved === undefined) delete process.env.UNIPC_SHM_SPIN
    else process.env.UNIPC_SHM_SPIN = saved
  })

  it('spin takes 0 to 1 000 000 µs, from the URL, the options or UNIPC_SHM_SPIN; anything else is InvalidArgumentError', () => {
    expect(() => createTransport(new URL('shm://b?spin=0'))).not.toThrow()
    expect(() => createTransport(new URL('shm://b?spin=1000000'))).not.toThrow()
    expect(() => createTransport(new URL('shm://b'), { spin: 200 })).not.toThrow()
    expect(() => createTransport(new URL('shm://b?spin=1000001'))).toThrow(InvalidArgumentError)
    expect(() => createTransport(new URL('shm://b?spin=-1'))).toThrow(InvalidArgumentError)
    expect(() => createTransport(new URL('shm://b?spin=fast'))).toThrow(InvalidArgumentError)
    process.env.UNIPC_SHM_SPIN = 'soon'
    expect(() => createTransport(new URL('shm://b'))).toThrow(InvalidArgumentError)
    // The URL wins over the environment.
    expect(() => createTransport(new URL('shm://b?spin=10'))).not.toThrow()
  })
})
