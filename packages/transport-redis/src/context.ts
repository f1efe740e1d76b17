/**
 * What the facilities of one Redis transport share: its connections, configuration, logger,
 * identity and a way to open dedicated blocking connections.
 * @module
 */
import type { Logger } from '@unipc/core/spi'
import { type Client, connectClient, createClient, endClient } from './client.js'
import type { RedisConfig } from './config.js'
import type { Publisher } from './publisher.js'
import type { Subscriber } from './subscriber.js'
import type { TurnBatcher } from './turn.js'

/** The shared state of one open transport. */
export interface RedisContext {
  readonly config: RedisConfig
  /** The connection for every non-blocking command (auto-pipelined only when configured). */
  readonly cmd: Client
  /** Batches the hot-path commands of one turn into few commands in one write on `cmd`. */
  readonly batch: TurnBatcher
  /** PUBLISHes at the end of the turn, in order (events, inbox frames in envelopes). */
  readonly publisher: Publisher
  /** The shared subscriber connection. */
  readonly sub: Subscriber
  readonly logger: Logger
  /** The component of the bus, if any. */
  readonly component: string | undefined
  /** A unique id of this transport instance (its inbox address). */
  readonly id: string
  /** Aborts when the transport closes. */
  readonly closing: AbortSignal
  /** Opens a dedicated connection for one blocking consumer; it is closed with the transport. */
  blocking(name: string): Promise<Client>
  /** Calls `listener` each time the command connection becomes ready again after a reconnect. */
  onReconnect(listener: () => void): () => void
}

/** Opens blocking connections and remembers them so the transport can close them all. */
export class BlockingPool {
  readonly #clients = new Set<Client>()

  constructor(private readonly config: RedisConfig) {}

  /** Opens a dedicated connection. */
  async open(name: string): Promise<Client> {
    const client = createClient(this.config, 'blocking', name)
    client.on('error', () => {})
    this.#clients.add(client)
    client.once('end', () => this.#clients.delete(client))
    await connectClient(client, this.config.target)
    return client
  }

  /** Drops every blocking connection at once (pending blocking commands reject). */
  closeAll(): void {
    for (const c of this.#clients) endClient(c)
    this.#clients.clear()
  }
}
