/** Replies a transport builds for calls it could not deliver, and the control-frame peek. */
import { describe, expect, it } from 'vitest'
import { ConnectionError, TimeoutError } from '../../src/index.js'
import {
  decodeInbox,
  encodeCommand,
  encodeInbox,
  encodeRequest,
  FrameKind,
} from '../../src/internal/frames.js'
import { failedCallReply, isCallerControl, lostCallReply } from '../../src/lost-call.js'

const body = Buffer.from([1])
const request = encodeRequest({
  id: 7,
  method: 'm',
  body,
  replyTo: 'inbox-a',
  flags: 0,
  deadline: 0,
  sender: '',
  window: 0,
})

describe('replies for undeliverable calls', () => {
  it('fails a request or command with the given error, keeping its code', () => {
    const r = failedCallReply(request, new TimeoutError('x', 5))
    expect(r?.to).toBe('inbox-a')
    const f = decodeInbox(r?.frame as Uint8Array)
    expect(f).toMatchObject({ kind: FrameKind.Error, id: 7, error: { code: new TimeoutError('x', 5).code } })
    const cmd = encodeCommand({ id: 3, body, replyTo: 'inbox-b', deadline: 0, sender: 's' })
    expect(failedCallReply(cmd, new Error('boom'))?.to).toBe('inbox-b')
  })

  it('marks a lost peer as a ConnectionError with peerLost', () => {
    const f = decodeInbox(lostCallReply(request, 'server died')?.frame as Uint8Array)
    expect(f).toMatchObject({
      kind: FrameKind.Error,
      error: { code: new ConnectionError('').code, data: { peerLost: true } },
    })
  })

  it('builds nothing for fire-and-forget commands or bytes that are not a call', () => {
    expect(
      failedCallReply(encodeCommand({ id: 1, body, replyTo: '', deadline: 0, sender: '' }), new Error()),
    ).toBe(undefined)
    expect(failedCallReply(Uint8Array.from([0xc0]), new Error())).toBe(undefined)
  })

  it('tells Cancel and Credit frames from every other frame by their first bytes', () => {
    expect(isCallerControl(encodeInbox({ kind: FrameKind.Cancel, id: 1, caller: 'c' }))).toBe(true)
    expect(isCallerControl(encodeInbox({ kind: FrameKind.Credit, id: 1, caller: 'c', credit: 3 }))).toBe(true)
    for (const f of [
      encodeInbox({ kind: FrameKind.Result, id: 1, body }),
      encodeInbox({ kind: FrameKind.End, id: 1 }),
      request,
      new Uint8Array(0),
    ])
      expect(isCallerControl(f)).toBe(false)
  })
})
