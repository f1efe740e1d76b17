#!/usr/bin/env node
/**
 * The conformance peer: a process that connects to a unipc URL and serves the standard handlers
 * the cross-process cases talk to (see {@link peerNames}). Usage:
 * `unipc-conformance-peer <url> <prefix> [livenessIntervalMs] [--preload <module>]...` (a preloaded
 * module can register a third-party transport's URL scheme with `registerTransport`). It prints `unipc-peer ready <prefix>`
 * when everything is served, exits on SIGTERM, SIGINT or when its stdin closes (its parent died).
 * @module
 */
import { type Bus, connect } from '@unipc/core'
import { PEER_READY, peerNames } from './peer-names.js'

function waitOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const timer = setTimeout(() => resolve(true), ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve(false)
      },
      { once: true },
    )
  })
}

async function serve(bus: Bus, prefix: string): Promise<void> {
  const n = peerNames(prefix)
  const say = (channel: string, data: unknown): void => void bus.events.publish(channel, data).catch(() => {})
  await bus.requests.serve(n.echo, (d: unknown) => d)
  await bus.requests.serve(n.fail, (d: unknown) => {
    throw Object.assign(new Error('peer handler failed on purpose'), {
      name: 'PeerFailure',
      code: 'E_PEER',
      data: d,
    })
  })
  await bus.requests.serve(n.slow, async (ms: number, ctx) => {
    if (await waitOrAbort(ms, ctx.signal)) return 'slow done'
    say(n.aborted, { id: ctx.id, reason: String(ctx.signal.reason) })
    return 'aborted'
  })
  await bus.requests.serve(n.hold, (_d, ctx) => {
    say(n.holding, ctx.id)
    return new Promise(() => {})
  })
  await bus.requests.serve(n.stream, async function* (d: { count?: number; delayMs?: number }, ctx) {
    ctx.signal.addEventListener('abort', () => say(n.cancelled, ctx.id), { once: true })
    const count = d?.count ?? Number.POSITIVE_INFINITY
    for (let i = 0; i < count; i++) {
      yield i
      if (d?.delayMs) await waitOrAbort(d.delayMs, ctx.signal)
    }
  })
  await bus.requests.serve(n.publish, (d: { channel: string; data: unknown }) =>
    bus.events.publish(d.channel, d.data),
  )
  await bus.requests.serve(n.status, (d: Record<string, unknown>) => bus.status.update(d))
  await bus.requests.serve(n.exit, (code: number) => {
    setTimeout(() => process.exit(code ?? 0), 20)
    return 'bye'
  })
  await bus.commands.handle(async (cmd: { hold?: boolean }, ctx) => {
    if (cmd?.hold) {
      say(n.holding, ctx.id)
      return new Promise(() => {})
    }
    return { cmd, redelivered: ctx.redelivered, pid: process.pid }
  })
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const preload: string[] = []
  for (let i = argv.indexOf('--preload'); i >= 0; i = argv.indexOf('--preload')) {
    preload.push(...argv.splice(i, 2).slice(1))
  }
  const [url, prefix, liveness] = argv
  if (!url || !prefix) {
    process.stderr.write(
      'usage: unipc-conformance-peer <url> <prefix> [livenessIntervalMs] [--preload <module>]...\n',
    )
    process.exit(2)
  }
  // A third-party transport registers its URL scheme (registerTransport) from a preloaded module.
  for (const specifier of preload) await import(specifier)
  const interval = Number(liveness ?? 1000)
  const bus = await connect(url, {
    component: prefix,
    liveness: { interval, timeout: interval * 3 },
    drainTimeout: 200,
  })
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void bus.close().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  await serve(bus, prefix)
  process.stdout.write(`${PEER_READY} ${prefix} ${process.pid}\n`)
}

main().catch((err) => {
  process.stderr.write(
    `unipc-conformance-peer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exit(1)
})
