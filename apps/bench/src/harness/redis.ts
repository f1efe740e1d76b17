/**
 * Starts a private redis-server (unix socket in a temp dir and a free TCP port, never 6379, no
 * persistence) for systems that need one.
 * TODO: switch to @unipc/testkit's startRedis once it lands, so there is one such helper.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { join } from 'node:path'

/** A running redis-server. */
export interface RedisServer {
  readonly port: number
  readonly socket: string
  readonly version: string
  stop(): Promise<void>
}

/** Starts redis-server in `dir` on `port`; throws a clear error when it is not installed. */
export async function startRedisServer(dir: string, port: number): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server is not installed (apt-get install redis-server)')
  }
  const version = /v=([\d.]+)/.exec(probe.stdout)?.[1] ?? 'unknown'
  const socket = join(dir, 'redis.sock')
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      // Fan-out benchmarks push many events at subscribers: do not disconnect them at the default limits.
      '--client-output-buffer-limit',
      'pubsub 256mb 128mb 60',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    log = (log + d).slice(-4000)
  })
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    log = (log + d).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const deadline = Date.now() + 10_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited: ${log.trim().split('\n').pop()}`)
    if (await canConnect(socket)) break
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`redis-server did not start within 10 s: ${log.trim().split('\n').pop()}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  return {
    port,
    socket,
    version,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 3_000)
      await exited
      clearTimeout(t)
    },
  }
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
