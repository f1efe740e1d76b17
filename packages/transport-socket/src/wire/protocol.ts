/**
 * Message types of the hub protocol (see docs/protocol/socket.md). Every frame body is a msgpack
 * array whose first element is one of these numbers. `rid` is a request id chosen by the client,
 * echoed by the hub in `Ok`, `Value`, `Entries` or `Fail`.
 * @module
 */

/** Protocol version spoken by this package; the hub refuses other versions. */
export const PROTOCOL_VERSION = 1

/** Frame types. Values are part of the wire format and never change. */
export const T = {
  // handshake
  /** hub→client `[Hello, version, nonce: bin, authRequired: bool, maxFrame]` */
  Hello: 1,
  /** client→hub `[Auth, version, proof: bin|nil, address: str|nil, component: str|nil, clientNonce: bin]` */
  Auth: 2,
  /**
   * hub→client `[Welcome, version, address, maxFrame, hubProof: bin|nil, features]`; `features` is a
   * bit set of {@link Feature} (absent from older hubs: none)
   */
  Welcome: 3,
  // replies
  /** hub→client `[Ok, rid]` */
  Ok: 10,
  /** hub→client `[Fail, rid, code, message, detail: str|nil]` (rid 0: the connection itself) */
  Fail: 11,
  /** hub→client `[Value, rid, data: bin|nil]` */
  Value: 12,
  /** hub→client `[Entries, rid, [key, data, key, data, …]]` */
  Entries: 13,
  // queues
  /** `[Push, rid, queue, data]` → Ok (see also Enqueue) */
  Push: 20,
  /**
   * `[Consume, rid, consumerId, queue, concurrency, directUrl?: str|nil]`: `directUrl` is where this
   * worker takes commands straight from senders (see Workers)
   */
  Consume: 21,
  /** `[Unconsume, rid, consumerId]` */
  Unconsume: 22,
  /**
   * hub→client `[Deliver, consumerId, tag, redelivered, data]`; on a direct link, sender→worker (the
   * worker reports it finished with `Done` tags, or gives it back with `Bounce`)
   */
  Deliver: 23,
  /** `[Ack, consumerId, tag]` (no reply) */
  Ack: 24,
  /** `[Release, consumerId, tag]`: give a delivery back untouched (no reply) */
  Release: 25,
  // maps
  /** `[Get, rid, map, key]` → Value */
  Get: 30,
  /** `[GetAll, rid, map]` → Entries */
  GetAll: 31,
  /** `[Set, rid, map, [key, data, …]]` */
  Set: 32,
  /** `[Delete, rid, map, [key, …]]` */
  Delete: 33,
  /** `[Watch, rid, watchId, map]` */
  Watch: 34,
  /** `[Unwatch, rid, watchId]` */
  Unwatch: 35,
  /** hub→client `[Change, watchId, key, data: bin|nil]` */
  Change: 36,
  // pub/sub
  /** `[Publish, channel, data]` (no reply) */
  Publish: 40,
  /** `[Subscribe, rid, subId, pattern]` */
  Subscribe: 41,
  /** `[Unsubscribe, rid, subId]` */
  Unsubscribe: 42,
  /** hub→client `[Event, subId, channel, data]` */
  Event: 43,
  // messaging
  /** `[Send, to, data]` (no reply) */
  Send: 50,
  /** hub→client `[Message, data]` */
  Message: 51,
  /**
   * `[Serve, rid, serverId, method, directUrl?: str|nil]`: `directUrl` is where this server accepts
   * direct links from callers (see Servers)
   */
  Serve: 52,
  /** `[Unserve, rid, serverId]` */
  Unserve: 53,
  /**
   * `[Dispatch, rid, method, data]`: Fail with UNIPC_NO_HANDLER at once when nobody serves the
   * method; success is acknowledged later and cumulatively by `Dispatched`
   */
  Dispatch: 54,
  /** hub→client `[Request, serverId, tag, data]` */
  Request: 55,
  /**
   * `[Done, tag]`: the server finished the request with this tag (no reply); on a direct link,
   * server→caller `[Done, tag, tag, …]` (every tag finished since the last write)
   */
  Done: 56,
  /** hub→client `[Dispatched, rid]`: every Dispatch up to `rid` not failed was handed to a server */
  Dispatched: 57,
  /**
   * `[Servers, rid, method]` → `[Entries, rid, [address, directUrl|nil, serverId, …]]`: the servers of
   * a method; the hub then pushes `Members` to this connection whenever that list changes
   */
  Servers: 58,
  /** hub→client `[Members, method, [address, directUrl|nil, serverId, …]]`: the new server list */
  Members: 59,
  // direct links (caller ↔ server, after the hub introduced them; also Request, Done, Send, Message)
  /** server→caller `[Bounce, tag]`: this server no longer serves the request's method; route it via the hub */
  Bounce: 60,
  /**
   * server→caller `[Bye, lastTag]`: the server is closing the link; requests with a tag above
   * `lastTag` were never read (route them via the hub), the others not Done are lost
   */
  Bye: 61,
  /** hub→client `[Pushed, rid]`: every Enqueue up to `rid` that did not fail is queued */
  Pushed: 62,
  /**
   * `[Enqueue, rid, queue, data, redelivered?: bool]`: Push acknowledged by a cumulative `Pushed` sent once per write
   * (or `Fail`); used when the hub has {@link Feature.Pushed}
   */
  Enqueue: 63,
  /**
   * `[Acks, consumerId, tag, tag, …]`: Ack of several deliveries of one consumer (no reply); a worker
   * sends the acknowledgements of one write as one frame, after the replies of that write. Used when
   * the hub has {@link Feature.Acks}
   */
  Acks: 64,
  /**
   * `[Workers, rid, queue]` → `[Entries, rid, [address, directUrl|nil, consumerId, concurrency, …],
   * backlog]`: the workers of a queue and how many of this connection's messages of that queue wait
   * in the hub for a worker; the hub then pushes `Crew` to this connection whenever the list changes
   * (hubs with {@link Feature.DirectCommands})
   */
  Workers: 65,
  /** hub→client `[Crew, queue, [address, directUrl|nil, consumerId, concurrency, …]]`: the new worker list */
  Crew: 66,
} as const

/** Bits of the Welcome's `features`. */
export const Feature = {
  /** The hub answers Servers and pushes Members, so callers can reach servers directly. */
  Direct: 1,
  /** The hub takes `Enqueue` and acknowledges it with cumulative `Pushed` frames. */
  Pushed: 2,
  /** The hub takes `Acks` (several acknowledgements of one consumer in one frame). */
  Acks: 4,
  /**
   * The hub answers Workers, pushes Crew, takes Consume's directUrl and Enqueue's redelivered flag,
   * so senders can hand commands straight to workers.
   */
  DirectCommands: 8,
} as const

/** The domain-separation string mixed into auth proofs, so a proof is useless for anything else. */
export const AUTH_CONTEXT_CLIENT = 'unipc-socket-v1 client'
/** The same for the hub's proof to the client. */
export const AUTH_CONTEXT_HUB = 'unipc-socket-v1 hub'
