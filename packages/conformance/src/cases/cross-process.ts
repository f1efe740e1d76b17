/**
 * Cross-process cases: the server, worker, publisher or status owner lives in a peer process (see
 * peer.ts), including peers that are SIGKILLed mid-call. Skipped, with the reason in the title, for
 * transports that cannot cross processes or when no peer is configured.
 * @module
 */
import { randomBytes } from 'node:crypto'
import {
  ConnectionError,
  type EventMessage,
  NoHandlerError,
  RemoteError,
  type StatusSnapshot,
  TimeoutError,
} from '@unipc/core'
import type { CaseContext, Recorder } from '../context.js'
import { rejectionOf, sleep } from '../context.js'
import { type PeerHandle, startPeer } from '../peer-client.js'
import type { CaseRequirements, Registrar } from '../registrar.js'

const PEER: CaseRequirements = { peer: true, slow: 2 }

/** Registers the cross-process cases. */
export function crossProcessCases(r: Registrar): void {
  const { expect } = r
  const peerOptions = r.options.peer
  const start = (prefix: string): Promise<PeerHandle> => {
    if (!peerOptions) throw new Error('conformance: options.peer is required for cross-process cases')
    return startPeer(peerOptions, { prefix, livenessInterval: r.knobs.livenessInterval })
  }
  /** A peer of the case's own, killed when the case ends. */
  const ownPeer = async (t: CaseContext): Promise<PeerHandle> => {
    const peer = await start(t.name('peer'))
    t.defer(() => peer.kill('SIGKILL'))
    return peer
  }
  let shared: Promise<PeerHandle> | undefined
  /** One peer shared by the cases that leave it healthy; started on first use. */
  const sharedPeer = (): Promise<PeerHandle> => {
    shared ??= start(`peer-${randomBytes(4).toString('hex')}`)
    return shared
  }
  const listen = async (t: CaseContext, pattern: string): Promise<Recorder<EventMessage>> => {
    const sub = (await t.bus()).events.subscribe(pattern)
    const rec = t.record(sub)
    await t.within(sub.ready, 'the subscription becoming ready')
    return rec
  }

  r.group('cross-process', () => {
    r.api.afterAll(async () => {
      const peer = await shared?.catch(() => undefined)
      await peer?.kill('SIGTERM')
    })

    r.test(
      'a call to a server in another process returns its result with rich types intact',
      async (t) => {
        const { names } = await sharedPeer()
        const client = await t.bus()
        const value = {
          at: new Date(1_700_000_000_000),
          bytes: Uint8Array.from([0, 255, 7]),
          m: new Map([[1, 'x']]),
        }
        expect(await client.requests.call(names.echo, value)).toEqual(value)
      },
      PEER,
    )

    r.test(
      'an error thrown in another process arrives as RemoteError with name, message, code and data',
      async (t) => {
        const { names } = await sharedPeer()
        const client = await t.bus()
        const err = await rejectionOf(client.requests.call(names.fail, { why: 'test' }))
        expect(err).toBeInstanceOf(RemoteError)
        expect(err).toMatchObject({ name: 'PeerFailure', code: 'E_PEER', data: { why: 'test' } })
      },
      PEER,
    )

    r.test(
      'a server process keeps serving after its handler threw',
      async (t) => {
        const peer = await sharedPeer()
        const client = await t.bus()
        await expect(client.requests.call(peer.names.fail, 1)).rejects.toBeInstanceOf(RemoteError)
        expect(await client.requests.call(peer.names.echo, 'still here')).toBe('still here')
        expect(peer.process.exitCode).toBeNull()
      },
      PEER,
    )

    r.test(
      'a stream from another process delivers every item, then completes',
      async (t) => {
        const { names } = await sharedPeer()
        const client = await t.bus()
        const got: number[] = []
        for await (const n of client.requests.stream<number>(names.stream, { count: 50 })) got.push(n)
        expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i))
      },
      PEER,
    )

    r.test(
      'cancelling a stream reaches the handler signal in the other process',
      async (t) => {
        const { names } = await sharedPeer()
        const cancelled = await listen(t, names.cancelled)
        const client = await t.bus()
        const rec = t.record(client.requests.stream<number>(names.stream, { delayMs: 5 }))
        await rec.count(3)
        rec.unsubscribe()
        await cancelled.count(1)
      },
      PEER,
    )

    r.test(
      'the deadline of a call reaches the handler signal in the other process',
      async (t) => {
        const { names } = await sharedPeer()
        const aborted = await listen(t, names.aborted)
        const client = await t.bus()
        await expect(client.requests.call(names.slow, 60_000, { timeout: 300 })).rejects.toBeInstanceOf(
          TimeoutError,
        )
        await aborted.count(1)
        expect(String((aborted.values[0]?.data as { reason?: string } | undefined)?.reason)).toContain(
          'Timeout',
        )
      },
      PEER,
    )

    r.test(
      'a command to a worker in another process returns its reply',
      async (t) => {
        const peer = await sharedPeer()
        const sender = await t.bus()
        const reply = await sender.commands.send(peer.names.component, { job: 1 })
        expect(reply).toMatchObject({ cmd: { job: 1 }, redelivered: false, pid: peer.process.pid })
      },
      PEER,
    )

    r.test(
      'events published in another process reach a pattern subscriber here',
      async (t) => {
        const { names } = await sharedPeer()
        const base = t.name('ev')
        const rec = await listen(t, `${base}.>`)
        const client = await t.bus()
        await client.requests.call(names.publish, { channel: `${base}.from.peer`, data: { n: 1 } })
        await rec.count(1)
        expect(rec.values[0]).toEqual({ channel: `${base}.from.peer`, data: { n: 1 } })
      },
      PEER,
    )

    r.test(
      'status published by another process is read here with the component online',
      async (t) => {
        const { names } = await sharedPeer()
        const client = await t.bus()
        await client.requests.call(names.status, { mode: 'busy' })
        const s = await client.status.get(names.component)
        expect(s).toMatchObject({ online: true, fields: { mode: 'busy' } })
      },
      PEER,
    )

    r.test(
      'a command queued before the worker process starts is handled once it starts',
      async (t) => {
        const prefix = t.name('peer')
        const sender = await t.bus()
        const reply = t.pending(sender.commands.send(prefix, { early: true }, { timeout: r.knobs.timeout }))
        await sleep(50)
        const peer = await start(prefix)
        t.defer(() => peer.kill('SIGKILL'))
        expect(await t.within(reply, 'the reply')).toMatchObject({
          cmd: { early: true },
          pid: peer.process.pid,
        })
      },
      PEER,
    )

    r.test(
      'a SIGKILLed process reads offline within its liveness timeout',
      async (t) => {
        const peer = await ownPeer(t)
        const watcher = await t.bus()
        const rec = t.record(watcher.status.watch(peer.names.component))
        const last = (v: StatusSnapshot[]): StatusSnapshot | undefined => v[v.length - 1]
        await rec.until((v) => last(v)?.online === true, 'online')
        await peer.kill('SIGKILL')
        await rec.until((v) => last(v)?.online === false, 'offline after SIGKILL')
        await t.until(
          async () => !(await watcher.status.get(peer.names.component)).online,
          'get() reading offline',
        )
      },
      PEER,
    )

    r.test(
      'a call pending on a SIGKILLed process fails with ConnectionError or TimeoutError and the bus keeps working',
      async (t) => {
        const peer = await ownPeer(t)
        const holding = await listen(t, peer.names.holding)
        const client = await t.bus()
        const pending = t.pending(client.requests.call(peer.names.hold, null, { timeout: 3_000 }))
        await holding.count(1)
        await peer.kill('SIGKILL')
        const err = await rejectionOf(pending)
        expect(err instanceof ConnectionError || err instanceof TimeoutError, String(err)).toBe(true)
        const method = t.name('local')
        await (await t.bus()).requests.serve(method, () => 'ok')
        expect(await client.requests.call(method)).toBe('ok')
      },
      PEER,
    )

    r.test(
      'a process that shuts down cleanly stops receiving calls: they fail with NoHandlerError',
      async (t) => {
        const peer = await ownPeer(t)
        const client = await t.bus()
        expect(await client.requests.call(peer.names.echo, 1)).toBe(1)
        await peer.kill('SIGTERM')
        await expect(client.requests.call(peer.names.echo, 2, { timeout: 5_000 })).rejects.toBeInstanceOf(
          NoHandlerError,
        )
      },
      PEER,
    )

    r.test(
      'a command held by a SIGKILLed worker process is redelivered to another worker',
      async (t) => {
        const peer = await ownPeer(t)
        const holding = await listen(t, peer.names.holding)
        const sender = await t.bus()
        const reply = t.pending(
          sender.commands.send(peer.names.component, { hold: true }, { timeout: r.knobs.timeout }),
        )
        await holding.count(1)
        await peer.kill('SIGKILL')
        const worker = await t.bus({ component: peer.names.component })
        await worker.commands.handle((cmd, ctx) => ({ cmd, redelivered: ctx.redelivered }))
        expect(await t.within(reply, 'the redelivered reply')).toEqual({
          cmd: { hold: true },
          redelivered: true,
        })
      },
      { ...PEER, requires: ['redelivery'] },
    )
  })
}
