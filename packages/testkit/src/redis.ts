/**
 * Throw-away redis-server instances for tests: each one runs in its own temp dir on a unix socket
 * and/or a free TCP port (never 6379), without persistence unless asked, and is stopped by the test.
 * `startRedisCluster()` builds a 3-master Redis Cluster the same way.
 * @module
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import { freePort, tempDir } from './misc.js'

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Listen on a unix socket in the temp dir (default true). */
  unixSocket?: boolean
  /** TCP port: a number, `0`/omitted for a free one, or `false` for no TCP listener. */
  port?: number | false
  /** Keep data across `restart()` (append-only file in the temp dir). Default false. */
  persistence?: boolean
  /** Extra redis-server arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[]
}

/** A running test redis-server. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>` (empty when there is no TCP listener). */
  readonly url: string
  /** `redis+unix://<socketPath>` (empty when there is no unix socket). */
  readonly unixUrl: string
  /** TCP port, or 0 when none. */
  readonly port: number
  /** Unix socket path, or '' when none. */
  readonly socketPath: string
  /** The server's working directory (removed by `stop()`). */
  readonly dir: string
  /** The redis-server process id (changes on restart). */
  pid(): number
  /** Runs `redis-cli` against this server and returns its stdout, e.g. `cli('CONFIG', 'GET', 'save')`. */
  cli(...args: string[]): Promise<string>
  /** Stops the server (SIGKILL when `hard`, else SIGTERM), then starts it again on the same addresses. */
  restart(options?: { hard?: boolean; downMs?: number }): Promise<void>
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

/** Kills servers a crashed test left behind when the test process exits. */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

/**
 * Starts a redis-server for a test and waits until it answers PING.
 * @param options - unix socket and/or TCP port, persistence, extra arguments
 * @returns urls, addresses, `restart()` and `stop()`
 * @example
 * ```ts
 * const redis = await startRedis()
 * afterAll(() => redis.stop())
 * const bus = await connect(redis.unixUrl, { component: 'a' })
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  installExitHook()
  const dir = tempDir('unipc-redis-')
  const unix = options.unixSocket ?? true
  const port = options.port === false ? 0 : options.port || (await freePort())
  const socketPath = unix ? join(dir.path, 'redis.sock') : ''
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir.path,
    '--save',
    '',
    '--appendonly',
    options.persistence ? 'yes' : 'no',
    '--daemonize',
    'no',
    '--logfile',
    join(dir.path, 'redis.log'),
    ...(unix ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
    ...(options.args ?? []),
  ]
  const probe = unix ? { path: socketPath } : { port, host: '127.0.0.1' }
  let child = await launch(args, probe, dir.path)
  let stopped = false
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child
    if (c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill(signal)
    await exited
  }
  const cliTarget = unix ? ['-s', socketPath] : ['-p', String(port)]
  return {
    url: port ? `redis://127.0.0.1:${port}` : '',
    unixUrl: unix ? `redis+unix://${socketPath}` : '',
    port,
    socketPath,
    dir: dir.path,
    pid: () => child.pid ?? 0,
    cli: (...a) => redisCli([...cliTarget, ...a]),
    async restart({ hard = false, downMs = 0 } = {}) {
      await stopChild(hard ? 'SIGKILL' : 'SIGTERM')
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
      child = await launch(args, probe, dir.path)
    },
    async stop() {
      if (stopped) return
      stopped = true
      await stopChild('SIGKILL')
      dir.cleanup()
    },
  }
}

/** A running 3-master test Redis Cluster. */
export interface TestRedisCluster {
  /** The masters' TCP ports. */
  readonly ports: readonly number[]
  /** Seed nodes for ioredis Cluster: `[{ host, port }, …]`. */
  readonly nodes: readonly { host: string; port: number }[]
  /** `redis://127.0.0.1:<first port>` — a seed URL. */
  readonly url: string
  /** Stops every node and removes their dirs. Idempotent. */
  stop(): Promise<void>
}

/**
 * Starts a Redis Cluster of three masters (no replicas) on free ports and waits until every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const servers: TestRedis[] = []
  try {
    for (let i = 0; i < 3; i++) {
      // The cluster bus listens on port + 10000, so that port must be free as well.
      const port = await freePortWithBus()
      servers.push(
        await startRedis({
          unixSocket: false,
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      )
    }
    const ports = servers.map((s) => s.port)
    await redisCli([
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await waitUntil(async () => {
      for (const s of servers)
        if (!(await s.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
      return true
    }, 20_000)
    return {
      ports,
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      url: `redis://127.0.0.1:${ports[0]}`,
      stop: async () => {
        await Promise.all(servers.map((s) => s.stop()))
      },
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()))
    throw err
  }
}

/** A master watched by one Sentinel. */
export interface TestRedisSentinel {
  /** The master (TCP). */
  readonly master: TestRedis
  /** Sentinel nodes for ioredis: `[{ host, port }]`. */
  readonly sentinels: readonly { host: string; port: number }[]
  /** The master's name the sentinel monitors (`mymaster`). */
  readonly name: string
  /** Stops the sentinel and the master. Idempotent. */
  stop(): Promise<void>
}

/** Starts a master and one Sentinel monitoring it as `mymaster` (quorum 1). */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  const master = await startRedis({ unixSocket: false })
  const dir = tempDir('unipc-sentinel-')
  const port = await freePort()
  const conf = join(dir.path, 'sentinel.conf')
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir.path}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      '',
    ].join('\n'),
  )
  let child: ChildProcess | undefined
  try {
    child = await launch([conf, '--sentinel'], { port, host: '127.0.0.1' }, dir.path)
  } catch (err) {
    await master.stop()
    dir.cleanup()
    throw err
  }
  let stopped = false
  return {
    master,
    sentinels: [{ host: '127.0.0.1', port }],
    name: 'mymaster',
    async stop() {
      if (stopped) return
      stopped = true
      const c = child as ChildProcess
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
        c.kill('SIGKILL')
        await exited
      }
      await master.stop()
      dir.cleanup()
    },
  }
}

async function freePortWithBus(): Promise<number> {
  for (;;) {
    const port = await freePort()
    if (port + 10000 > 65535) continue
    if (await portIsFree(port + 10000)) return port
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

async function launch(
  args: string[],
  probe: { path: string } | { port: number; host: string },
  dir: string,
): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
  })
  child.once('exit', () => live.delete(child))
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(
        new Error(`cannot start redis-server (install it: apt-get install redis-server): ${err.message}`),
      ),
    )
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)))
  })
  spawnError.catch(() => {})
  await Promise.race([waitUntil(() => ping(probe), 15_000), spawnError])
  return child
}

/** Sends PING over a raw socket; true when the server answers +PONG, or -NOAUTH when it needs a password (not -LOADING). */
function ping(probe: { path: string } | { port: number; host: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(probe)
    let buf = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      buf += d.toString()
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'))
    })
  })
}

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message} ${stderr}`))
      else resolve(stdout)
    })
  })
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`redis-server did not come up within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
