/**
 * Runs a broker for one bus: takes the bus's lock (flock: exactly one broker per bus, and a killed
 * broker's lock vanishes with it), listens on the rendezvous socket (0600), accepts buses through
 * the handshake and drives their links through one endpoint.
 * @module
 */
import { chmodSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from '@unipc/core/spi'
import { Broker, type LostRequestHandler } from './broker.js'
import { Endpoint } from './endpoint.js'
import { watchForEof } from './handshake.js'
import { addon } from './load-addon.js'
import { type BusPaths, bellPath } from './paths.js'
import { QUEUE_PROTOCOL } from './queue-client.js'
import { acceptLink, refuse, welcome } from './rendezvous.js'

const ADDRESS = /^shm:[A-Za-z0-9_.-]{1,64}:\d{1,10}-[0-9a-f]{8}$/

/** Options of {@link startBroker}. */
export interface BrokerOptions {
  /** Largest ring capacity a bus may ask for. */
  readonly maxCapacity?: number
  /** Exit (close) after this many ms without any bus; 0 = never. */
  readonly idleMs?: number
  /** Called when the broker stops by itself (idle). */
  readonly onIdle?: () => void
  readonly logger: Logger
  readonly onLost?: LostRequestHandler
  /**
   * The queue protocol announced to buses and spoken (default QUEUE_PROTOCOL); 1 makes the broker
   * announce and take only the per-command Push/Reply and Ack, as one of an earlier version (tests).
   */
  readonly queueProtocol?: number
}

/** A running broker. */
export interface RunningBroker {
  readonly broker: Broker
  close(): Promise<void>
}

/**
 * Starts the broker of `paths.bus`, or returns undefined when another process already runs it.
 */
export async function startBroker(
  paths: BusPaths,
  options: BrokerOptions,
): Promise<RunningBroker | undefined> {
  const lockFd = addon.lockFile(paths.lock)
  if (lockFd < 0) return undefined
  const { logger } = options
  const maxCapacity = options.maxCapacity ?? 64 * 1024 * 1024
  const broker = new Broker(logger, options.onLost, options.queueProtocol)
  const endpoint = new Endpoint(
    bellPath(paths.dir, paths.bus),
    (link, frame) => broker.onFrame(link, frame),
    (link, err) => {
      logger.warn(`unipc shm broker: dropped bus pid ${link.peerPid}: ${err.message}`)
      broker.remove(link)
    },
    logger,
  )
  let nextClient = 0
  let idleTimer: NodeJS.Timeout | undefined
  const armIdle = (): void => {
    clearTimeout(idleTimer)
    if (options.idleMs && broker.clients.size === 0)
      idleTimer = setTimeout(() => {
        if (broker.clients.size === 0) void close().then(() => options.onIdle?.())
      }, options.idleMs)
  }

  const accept = async (socket: Socket): Promise<void> => {
    clearTimeout(idleTimer)
    let accepted: Awaited<ReturnType<typeof acceptLink>> | undefined
    try {
      accepted = await acceptLink(socket, paths.bus, maxCapacity)
      const { link, hello } = accepted
      const pid = link.peerPid
      const component = typeof hello.component === 'string' ? hello.component.slice(0, 200) : ''
      // A bus proposes its inbox address (it names its own socket for direct links, see peers.ts).
      const proposed = typeof hello.address === 'string' ? hello.address : ''
      const address =
        ADDRESS.test(proposed) && proposed.startsWith(`shm:${paths.bus}:`) && !broker.hasAddress(proposed)
          ? proposed
          : `shm:${paths.bus}:${process.pid}.${++nextClient}:${pid}`
      broker.add({
        link,
        pid,
        address,
        component,
        consumers: new Map(),
        watches: new Map(),
        subs: new Map(),
        servers: new Map(),
        inflight: new Map(),
        lookups: new Set(),
        nextDelivery: 0,
        pushed: 0,
      })
      endpoint.add(link)
      watchForEof(socket, () => {
        logger.debug(`unipc shm broker: bus pid ${pid} left`)
        endpoint.links.delete(link)
        broker.remove(link)
        armIdle()
      })
      // queues: the bulk Enqueue/Pushed and Acks messages are understood (see queue-client.ts).
      welcome(socket, endpoint.bellPath, {
        address,
        queues: options.queueProtocol ?? QUEUE_PROTOCOL,
      })
    } catch (err) {
      accepted?.link.close()
      logger.warn('unipc shm broker: refused a bus', err)
      refuse(socket, err)
      armIdle()
    }
  }

  rmSync(paths.socket, { force: true })
  const server: Server = createServer((socket) => void accept(socket))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(paths.socket, () => {
      server.off('error', reject)
      resolve()
    })
  })
  chmodSync(paths.socket, 0o600)
  server.on('error', (err) => logger.error('unipc shm broker: socket error', err))
  armIdle()

  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    clearTimeout(idleTimer)
    for (const link of [...broker.clients.keys()]) broker.remove(link)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    endpoint.close()
    rmSync(paths.socket, { force: true })
    addon.closeFd(lockFd)
  }
  return { broker, close }
}
