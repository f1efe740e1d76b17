/**
 * The native addon's surface (native/addon.cc), typed for TypeScript. Only the transport's own
 * modules use it; applications use `createTransport`. Every call returns at once: nothing blocks.
 * Native errors carry a `code`: `ERR_UNIPC_SHM_CORRUPT` (the peer broke the ring or segment
 * format), `ERR_UNIPC_SHM_PERMISSION` (wrong owner or mode), `ERR_UNIPC_SHM_TOO_BIG`,
 * `ERR_UNIPC_SHM_CLOSED`, `EEXIST`, `ENOENT`, `ERR_UNIPC_SHM_SYS` (other errno, in `errno`).
 * @module
 */

/** A mapped link segment: one ring this side writes and one it reads (see docs/protocol/shm.md). */
export declare class NativeLink {
  /**
   * Creates a link segment with `O_CREAT|O_EXCL`, mode 0600 (checked with fstat), sized for two
   * rings of `capacity` bytes, and maps it. The creator writes ring 0 and reads ring 1.
   * @param name - a POSIX shm name, `/unipc-…`
   * @param capacity - data bytes per ring, a power of two from 4 KiB to 1 GiB
   */
  static create(name: string, capacity: number): NativeLink
  /**
   * Maps a peer's link segment after checking owner (must be us), mode (0600) and header (magic,
   * version, capacity, exact size). The opener writes ring 1 and reads ring 0.
   * @param name - the segment name the peer sent
   * @param maxCapacity - the largest ring capacity accepted
   */
  static open(name: string, maxCapacity: number): NativeLink
  /** Data bytes per ring. */
  readonly capacity: number
  /**
   * Appends one frame whose payload is `head` then `body`; rings the peer's bell if it sleeps,
   * unless `quiet` (the frame then waits for the peer's next wake-up).
   * @returns false when the ring is full (nothing written; the peer rings our bell once it drained)
   * @throws code ERR_UNIPC_SHM_TOO_BIG above a quarter of the ring, ERR_UNIPC_SHM_CORRUPT if the peer broke the head position
   */
  write(type: number, head: Uint8Array, body?: Uint8Array, quiet?: boolean): boolean
  /**
   * Writes frames given as `[u32 length][u32 type][payload]` records (the first `length` bytes of
   * `records`) in one call: as many whole frames as fit, then rings the peer's bell once if it
   * sleeps and `wake` is true.
   * @returns the bytes of records written; fewer than `length` when the ring filled up (the peer
   *   rings our bell once it has drained)
   * @throws code ERR_INVALID_ARG_VALUE for a malformed record, ERR_UNIPC_SHM_TOO_BIG, ERR_UNIPC_SHM_CORRUPT
   */
  writeBatch(records: Uint8Array, length: number, wake: boolean): number
  /**
   * Copies committed frames out (about `maxBytes`, at least one) as `[u32 length][u32 type][payload]`
   * records, then frees their ring space (ringing the writer if it waits for space).
   * With `arm`, an empty ring is also armed (see {@link NativeLink.arm}) in the same call; data
   * that arrives meanwhile is returned instead (and the ring is not armed).
   * @returns undefined when the ring is empty
   * @throws code ERR_UNIPC_SHM_CORRUPT when a length, type or position read from the ring is out of bounds
   */
  read(maxBytes: number, arm?: boolean): Buffer | undefined
  /**
   * Like the other overload, but copies the records into `into` from `offset` on (at most the room
   * left there; no buffer made per call), when {@link NativeAddon.readsInto}.
   * @returns the end of what was copied; 0 when the ring is empty (armed with `arm`); minus the
   *   size of the first record when even that does not fit in the room left (nothing taken)
   */
  read(maxBytes: number, arm: boolean, into: Uint8Array, offset: number): number
  /**
   * This link's id for {@link NativeAddon.linkRead}, {@link NativeAddon.linkWrite} and
   * {@link NativeAddon.linkPending} (absent from an addon built before them).
   */
  readonly id?: number
  /** The buffer {@link NativeAddon.linkRead} copies into (held until replaced or closed). */
  setReadBuffer?(buf: Uint8Array): void
  /** The records {@link NativeAddon.linkWrite} writes from (held until replaced or closed). */
  setStage?(buf: Uint8Array): void
  /** Marks the reader as asleep; false (and not armed) when data arrived meanwhile: read again. */
  arm(): boolean
  /** The write end of the peer's bell FIFO (from {@link NativeAddon.openPeerBell}), -1 for none. */
  setPeerBell(fd: number): void
  /**
   * Ring positions and flags as found in shared memory (diagnostics only):
   * `[outHead, outTail, outArmed, outWaiting, inHead, inTail, inArmed, inWaiting]`.
   */
  stats(): number[]
  /** Unmaps the segment (it is not unlinked). Later calls throw ERR_UNIPC_SHM_CLOSED. */
  close(): void
}

/**
 * A reusable segment for the large payloads of one link direction (docs/protocol/shm.md, "Slabs"),
 * mapped pre-faulted (MAP_POPULATE) on both sides.
 */
export declare class NativeSlab {
  /**
   * @param name - a POSIX shm name, `/unipc-…`
   * @param capacity - data bytes (a power of two, 64 KiB .. 1 GiB); when opening, the largest accepted
   * @param create - true: make it (`O_EXCL`, 0600) as its writer; false: map a peer's as its reader
   *   after checking owner, mode, header and size
   */
  constructor(name: string, capacity: number, create: boolean)
  /** Data bytes. */
  readonly capacity: number
  /**
   * Copies `head` then `body` in; returns their position, or -1 when there is no room now. `body`
   * may be a list of parts, copied one after the other (when {@link NativeAddon.writesParts}).
   */
  write(head: Uint8Array | undefined, body: Uint8Array | readonly Uint8Array[]): number
  /**
   * Checks `[position, position + length)` against what the writer can have written, copies it
   * out once (into `into` when given, which is returned) and frees the slab up to its end.
   * @throws code ERR_UNIPC_SHM_CORRUPT for a range out of bounds
   */
  read(position: number, length: number, into?: Buffer): Buffer
  /** Unmaps it (not unlinked). */
  close(): void
}

/** This process's doorbell: a FIFO polled by libuv on the JS thread. */
export declare class NativeBell {
  /** Makes the FIFO at `path` (mode 0600; it must not exist) and opens it non-blocking. */
  constructor(path: string)
  /** The read end's file descriptor. */
  readonly fd: number
  /** Calls `onRing` on the JS thread whenever a peer rings (wake-ups coalesce). */
  start(onRing: () => void): void
  /**
   * Turns on the bounded busy-poll (after {@link NativeBell.start}): after a read or write on a
   * watched link, the JS thread keeps polling the watched rings for up to `us` µs right before the
   * event loop would block, and calls `onRing` as soon as one holds data; then it arms them all
   * and the loop sleeps. From then on the caller must not arm rings (read without `arm`): they
   * are armed right before the loop blocks. Never spins while the loop has other work (timers
   * due, immediates, ready file descriptors). Absent from an addon built before it (see
   * {@link NativeAddon.spins}).
   * @param us - the budget in µs, 0 to 1 000 000 (0 does nothing)
   */
  spin?(us: number): void
  /** Polls `link`'s incoming ring while spinning, until the link closes (needs {@link NativeBell.spin}). */
  watch?(link: NativeLink): void
  /**
   * Diagnostics of the busy-poll: `[µs spent polling, deliveries made from the poll, times the
   * loop went to sleep after polling]` (zeros when not spinning).
   */
  spinStats?(): number[]
  /** Stops polling, closes the fd and removes the FIFO. Idempotent. */
  close(): void
}

/** Everything the addon exports. */
export interface NativeAddon {
  readonly Link: typeof NativeLink
  readonly Bell: typeof NativeBell
  readonly Slab: typeof NativeSlab
  /** Opens the write end of a peer's bell FIFO (must be a FIFO we own); returns the fd. */
  openPeerBell(path: string): number
  /** Closes an fd returned by {@link NativeAddon.openPeerBell}. */
  closeFd(fd: number): void
  /** Writes one wake-up byte to a bell fd (never blocks). */
  ringBell(fd: number): void
  /**
   * Creates blob segment `name` (O_EXCL, 0600) holding `head` then `body`: one copy in. `body` may
   * be a list of parts, written one after the other (when {@link NativeAddon.writesParts}).
   */
  writeBlob(name: string, head: Uint8Array | undefined, body: Uint8Array | readonly Uint8Array[]): void
  /** Opens, unlinks and copies out blob `name`, checking owner, mode and that its size is `length`. */
  readBlob(name: string, length: number): Buffer
  /** Takes an exclusive flock on `path` (created 0600); returns its fd, or -1 when another process holds it. */
  lockFile(path: string): number
  /** Removes a segment name; true when it existed. */
  unlinkSegment(name: string): boolean
  /** Largest frame payload a ring of `capacity` bytes carries inline. */
  maxInlinePayload(capacity: number): number
  /**
   * Once per process: tunes glibc's allocator so freed large buffers stay mapped for the next
   * ones (no page faults per payload), unless the user set malloc options; true when tuned.
   * Absent from an addon built before it existed.
   */
  tuneMalloc?(): boolean
  /** True once {@link NativeAddon.tuneMalloc} tuned the allocator in this process (diagnostics, tests). */
  mallocTuned?(): boolean
  /** True when NativeBell.spin and NativeBell.watch exist (absent from an addon built before). */
  readonly spins?: boolean
  /** True when NativeLink.read takes `arm` (absent from an addon built before it did). */
  readonly readArms?: boolean
  /**
   * True when NativeSlab.write and writeBlob take a body as a list of parts (absent from an addon
   * built before they did).
   */
  readonly writesParts?: boolean
  /** True when NativeLink.read copies into a given buffer (absent from an addon built before). */
  readonly readsInto?: boolean
  /**
   * {@link NativeLink.read} of link `id` into its buffer set by NativeLink.setReadBuffer, as a
   * plain function of numbers: a Link method pays for unwrapping `this` and checking a typed-array
   * argument on every call (~300 ns against ~50). Absent from an addon built before it.
   * @throws code ERR_UNIPC_SHM_CLOSED for a closed link, as read() otherwise
   */
  linkRead?(id: number, maxBytes: number, arm: boolean, offset: number): number
  /** {@link NativeLink.writeBatch} of link `id` from its stage set by NativeLink.setStage (see linkRead). */
  linkWrite?(id: number, length: number, wake: boolean): number
  /** Whether link `id`'s incoming ring holds unread bytes (false once closed): one load. */
  linkPending?(id: number): boolean
}
