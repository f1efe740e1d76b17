/**
 * `connect()`: picks a transport by URL scheme, loads its package, opens it and returns a Bus.
 * The application never names a transport in code: `UNIPC_URL` decides per deployment.
 * @module
 */
import { homedir, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { Bus } from './bus.js'
import { type Codec, resolveCodec } from './codec.js'
import { InvalidArgumentError, TransportMissingError } from './errors.js'
import { BehaviorSubject } from './internal/rx.js'
import { type Logger, silentLogger } from './logger.js'
import { createMemoryTransport } from './memory/memory-transport.js'
import { assertName } from './names.js'
import type { ConnectionState, Transport, TransportFactory } from './spi.js'
import type { LivenessOptions } from './status.js'

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** This process's component name (needed to handle commands and publish status). */
  component?: string
  /** `'msgpack'` (default), `'json'` or a custom {@link Codec}. */
  codec?: Codec | 'msgpack' | 'json'
  /** Where unipc logs; silent by default. `console` works. */
  logger?: Logger
  /** Default timeout of commands and requests in ms (default 30 000). */
  timeout?: number
  /** Largest payload this bus sends, in bytes (default 64 MiB; the transport may allow less). */
  maxPayload?: number
  /** How long close() waits for running handlers, in ms (default 5 000). */
  drainTimeout?: number
  /** Heartbeat interval and offline timeout in ms, or false for no heartbeat. */
  liveness?: Partial<LivenessOptions> | false
  /** Include stack traces in errors sent to callers (default false: stacks leak paths). */
  sendErrorStacks?: boolean
  /** Options for the transport itself (TLS files, tokens, sizes…), read by the transport package. */
  transport?: Record<string, unknown>
}

/** Maps a URL scheme to the package that implements it. */
const schemePackages: Record<string, string> = {
  'unix:': '@unipc/transport-socket',
  'tcp:': '@unipc/transport-socket',
  'tls:': '@unipc/transport-socket',
  'redis:': '@unipc/transport-redis',
  'rediss:': '@unipc/transport-redis',
  'redis+unix:': '@unipc/transport-redis',
  'shm:': '@unipc/transport-shm',
}

const registered = new Map<string, TransportFactory>([['memory:', createMemoryTransport]])

/**
 * Registers a transport for a URL scheme (e.g. a third-party `nats:` transport).
 * @param scheme - the scheme with or without the colon, e.g. `nats`
 * @param factory - builds a transport for a URL
 */
export function registerTransport(scheme: string, factory: TransportFactory): void {
  registered.set(scheme.endsWith(':') ? scheme : `${scheme}:`, factory)
}

/** The directory for per-user runtime files (sockets): `$XDG_RUNTIME_DIR/unipc`, else a per-user temp dir. */
export function runtimeDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR
  if (xdg) return join(xdg, 'unipc')
  let user = 'user'
  try {
    user = String(userInfo().uid >= 0 ? userInfo().uid : userInfo().username)
  } catch {
    user = homedir().split('/').pop() ?? 'user'
  }
  return join(tmpdir(), `unipc-${user}`)
}

/** The embedded default: the socket transport's hub on a unix socket in the runtime dir, auto-started. */
export function defaultUrl(): string {
  return `unix://${join(runtimeDir(), 'hub.sock')}?autostart=1`
}

/**
 * Connects to a unipc bus.
 * @param target - a URL (`memory:`, `unix:///run/hub.sock`, `tcp://host:port`, `redis://host/0`,
 *   `shm://name`…), a Transport object, or omitted to use `UNIPC_URL`, else the embedded default
 * @param options - component name, codec, logger, timeouts and transport options
 * @returns an open Bus
 * @throws TransportMissingError when the scheme's package is not installed; the transport's own
 *   errors (ConnectionError, AuthError) when it cannot connect
 * @example
 * ```ts
 * const bus = await connect({ component: 'camera' })           // UNIPC_URL or the embedded default
 * const other = await connect('redis://10.0.0.5:6379/0', { component: 'ui' })
 * ```
 */
export async function connect(
  target?: string | URL | Transport | ConnectOptions,
  options: ConnectOptions = {},
): Promise<Bus> {
  if (
    target !== undefined &&
    typeof target === 'object' &&
    !(target instanceof URL) &&
    !isTransport(target)
  ) {
    options = target
    target = undefined
  }
  if (options.component !== undefined) assertName('component', options.component)
  const transport = isTransport(target)
    ? target
    : await createTransport(target ?? (process.env.UNIPC_URL || defaultUrl()), options.transport ?? {})
  const logger = options.logger ?? silentLogger
  const state = new BehaviorSubject<ConnectionState>('connecting')
  const interval = options.liveness === false ? 0 : (options.liveness?.interval ?? 1000)
  const bus = new Bus(
    transport,
    {
      component: options.component,
      codec: resolveCodec(options.codec),
      logger,
      timeout: options.timeout ?? 30_000,
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
      drainTimeout: options.drainTimeout ?? 5_000,
      liveness:
        options.liveness === false ? false : { interval, timeout: options.liveness?.timeout ?? interval * 3 },
      sendErrorStacks: options.sendErrorStacks ?? false,
    },
    state,
  )
  await transport.open({
    component: options.component,
    logger,
    onState: (s, cause) => {
      if (state.value === 'closed' || state.closed) return
      if (cause) logger.info(`unipc: ${transport.name} transport is ${s}`, cause)
      if (s === 'reconnecting') bus.linkLost(cause)
      if (s !== state.value) state.next(s)
    },
  })
  if (state.value === 'connecting') state.next('connected')
  try {
    await bus.start()
  } catch (err) {
    await bus.close().catch(() => {})
    throw err
  }
  return bus
}

/**
 * Builds (but does not open) the transport for a URL by loading the package of its scheme.
 * @param url - the transport URL
 * @param options - transport options
 */
export async function createTransport(
  url: string | URL,
  options: Record<string, unknown> = {},
): Promise<Transport> {
  const parsed = parseUrl(url)
  const own = registered.get(parsed.protocol)
  if (own) return own(parsed, options)
  const pkg = schemePackages[parsed.protocol]
  if (!pkg) {
    const known = [...registered.keys(), ...Object.keys(schemePackages)].join(' ')
    throw new InvalidArgumentError(
      `unknown transport scheme '${parsed.protocol}' in ${String(url)}; known: ${known}`,
    )
  }
  let mod: { createTransport?: TransportFactory }
  try {
    mod = await import(pkg)
  } catch (cause) {
    const code = (cause as { code?: string }).code
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((cause as Error).message).includes(pkg)
    ) {
      throw new TransportMissingError(parsed.protocol.slice(0, -1), pkg, { cause })
    }
    throw cause
  }
  if (typeof mod.createTransport !== 'function') {
    throw new InvalidArgumentError(
      `${pkg} does not export createTransport(url, options); is it a unipc transport?`,
    )
  }
  return mod.createTransport(parsed, options)
}

function parseUrl(url: string | URL): URL {
  if (url instanceof URL) return url
  try {
    return new URL(url)
  } catch (cause) {
    throw new InvalidArgumentError(
      `'${url}' is not a transport URL; try memory:, unix:///path, tcp://host:port, redis://host:port or shm://name`,
      { cause },
    )
  }
}

function isTransport(v: unknown): v is Transport {
  return (
    typeof v === 'object' &&
    v !== null &&
    'messaging' in v &&
    'open' in v &&
    typeof (v as Transport).open === 'function'
  )
}
