/**
 * Creating ioredis connections for one transport: the shared command connection (auto-pipelined),
 * the subscriber connection and one dedicated connection per blocking consumer.
 * @module
 */
import { Cluster, Command, Redis } from 'ioredis'
import type { RedisConfig } from './config.js'
import { toUnipcError } from './errors.js'

/** A standalone, Sentinel-backed or Cluster connection: the commands we use exist on all. */
export type Client = Redis | Cluster

/** What a connection is for; blocking ones must not resend a blocking command after a reconnect. */
export type ClientRole = 'command' | 'subscriber' | 'blocking'

/**
 * Builds (but does not connect) a client for `role`.
 * @param config - the transport configuration
 * @param role - command, subscriber or blocking
 * @param name - CLIENT SETNAME, to tell connections apart in `CLIENT LIST`
 */
export function createClient(config: RedisConfig, role: ClientRole, name: string): Client {
  const shared = {
    lazyConnect: true,
    enableAutoPipelining: role === 'command' && config.autoPipelining,
    // A blocking command lost with its connection is not sent again blindly: its loop notices (see
    // untilClosed), first recovers what the lost reply held, then blocks again.
    autoResendUnfulfilledCommands: role !== 'blocking',
    maxRetriesPerRequest: role === 'command' ? 20 : null,
    connectionName: name.replace(/[^\w.:-]/g, '_'),
    // ioredis's own resubscription after a reconnect sends SUBSCRIBE/PSUBSCRIBE without handling
    // their rejection: a connection closed before their replies (the bus closing while Redis comes
    // back) made an unhandled rejection, which ends a Node process. The Subscriber resubscribes.
    autoResubscribe: false,
  }
  if (config.mode === 'cluster') {
    return new Cluster([...config.clusterNodes], {
      ...config.clusterOptions,
      lazyConnect: true,
      enableAutoPipelining: shared.enableAutoPipelining,
      redisOptions: { ...config.clusterOptions.redisOptions, ...shared, lazyConnect: false },
    })
  }
  return new Redis({ ...config.redisOptions, ...shared })
}

/**
 * Connects a client and waits until it is ready.
 * @throws AuthError when credentials are refused, ConnectionError when Redis cannot be reached
 */
export async function connectClient(client: Client, target: string): Promise<void> {
  // connect() rejects with a bare "Connection is closed"; the reason (WRONGPASS, ENOENT…) comes as an event.
  let reason: unknown
  const onError = (err: unknown): void => {
    reason ??= err
  }
  client.on('error', onError)
  try {
    await client.connect()
  } catch (err) {
    endClient(client)
    throw toUnipcError(reason ?? err, `connecting to ${target}`)
  } finally {
    client.off('error', onError)
  }
}

/** The ioredis 5 internals that end a connection (what its own close handler calls). */
interface Ending {
  setStatus?(status: 'end'): void
  flushQueue?(err: Error): void
}

/**
 * Closes a connection for good, at once. ioredis's `disconnect()` on a connection that waits
 * between two reconnect attempts only cancels the next attempt (ioredis#1247): there is no socket
 * whose close would end it, so it never reaches 'end' — whoever waits for that (a blocking loop's
 * {@link readyToResume}, so the transport's close) waits forever — and commands queued meanwhile
 * never settle. Such a connection is ended here the way ioredis ends any other: status 'end', and
 * its queued commands rejected with "Connection is closed.".
 */
export function endClient(client: Client): void {
  const between = client.status === 'reconnecting'
  client.disconnect()
  if (!between || client.status !== 'reconnecting' || client instanceof Cluster) return
  const ending = client as unknown as Ending
  ending.setStatus?.('end')
  ending.flushQueue?.(new Error('Connection is closed.'))
}

/**
 * For a blocking loop that lost its connection: resolves true once the client is ready again (the
 * loop resumes), false when the client ended (the loop stops).
 */
export function readyToResume(client: Client): Promise<boolean> {
  return whenReady(client).then(
    () => true,
    () => false,
  )
}

/** Resolves once the client is ready again (after a reconnect), or rejects when it ends. */
export function whenReady(client: Client): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(new Error('connection ended'))
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      client.off('end', onEnd)
      resolve()
    }
    const onEnd = (): void => {
      client.off('ready', onReady)
      reject(new Error('connection ended'))
    }
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

/**
 * Sends a command by name with a binary reply, bypassing auto-pipelining (whose `callBuffer`
 * path drops the command name in ioredis 5.9) — for commands ioredis has no Buffer variant of.
 */
export function commandBuffer(
  client: Client,
  name: string,
  args: (string | Buffer | number)[],
): Promise<unknown> {
  return client.sendCommand(new Command(name, args, { replyEncoding: null })) as Promise<unknown>
}

/** Per connection: the rejecters of the commands `untilClosed` waits on (one 'close' listener each). */
const closeWatchers = new WeakMap<Client, Set<(err: Error) => void>>()

/**
 * Settles like `command`, but rejects as soon as the connection closes: ioredis drops a command
 * that was in flight on a blocking connection (no resend) without ever settling its promise.
 * (One 'close' listener per connection, added once: adding and removing an EventEmitter listener
 * per blocking read cost more than the read's own bookkeeping.)
 */
export function untilClosed<T>(client: Client, command: Promise<T>): Promise<T> {
  let waiting = closeWatchers.get(client)
  if (waiting === undefined) {
    const set = new Set<(err: Error) => void>()
    waiting = set
    closeWatchers.set(client, set)
    client.on('close', () => {
      const rejecters = [...set]
      set.clear()
      for (const reject of rejecters) reject(new Error('connection closed while blocking'))
    })
  }
  const set = waiting
  return new Promise<T>((resolve, reject) => {
    set.add(reject)
    command.then(
      (v) => {
        set.delete(reject)
        resolve(v)
      },
      (err) => {
        set.delete(reject)
        reject(err)
      },
    )
  })
}
