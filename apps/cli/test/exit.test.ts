import {
  AuthError,
  ConnectionError,
  InvalidArgumentError,
  NoHandlerError,
  RemoteError,
  TimeoutError,
  TransportMissingError,
} from '@unipc/core'
import { describe, expect, it } from 'vitest'
import { CliError, describeFailure, Exit } from '../src/cli/exit.js'

describe('exit codes', () => {
  const url = 'unix:///tmp/x.sock'
  it.each([
    ['a timeout', new TimeoutError("command to 'camera'", 300), Exit.Timeout],
    ['no handler', new NoHandlerError('echo'), Exit.NotFound],
    ['a lost connection', new ConnectionError('connection lost'), Exit.Unreachable],
    ['refused credentials', new AuthError('bad token'), Exit.Unreachable],
    [
      'a missing transport package',
      new TransportMissingError('redis', '@unipc/transport-redis'),
      Exit.Unreachable,
    ],
    ['a bad argument', new InvalidArgumentError('component name must be a non-empty string'), Exit.Usage],
    [
      'a remote failure',
      new RemoteError({ name: 'LensError', message: 'cap on\nretry', code: 'LENS' }),
      Exit.Failed,
    ],
    ['a command-line problem', new CliError('setting a.b is not set', Exit.NotFound), Exit.NotFound],
    ['anything else', new Error('boom'), Exit.Failed],
  ])('maps %s to its code with a one-line message', (_what, err, code) => {
    const d = describeFailure(err, url)
    expect(d.code).toBe(code)
    expect(d.message).not.toContain('\n')
  })

  it('names the remote error and its code', () => {
    const d = describeFailure(new RemoteError({ name: 'LensError', message: 'cap on', code: 'LENS' }), url)
    expect(d.message).toBe('the handler failed: LensError [LENS]: cap on')
  })

  it('says where to look when the transport cannot be reached', () => {
    expect(describeFailure(new ConnectionError('refused'), url).message).toContain('unipc hub')
    expect(describeFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url).code).toBe(
      Exit.Unreachable,
    )
  })
})
