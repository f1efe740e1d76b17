/**
 * One link between two processes: a mapped link segment (a ring each way), the peer's doorbell
 * and the rendezvous socket whose EOF means the peer died. Messages larger than the inline limit
 * travel as blob segments named in the ring (one copy in, one copy out).
 * @module
 */
import { existsSync } from 'node:fs'
import type { Socket } from 'node:net'
import { type BytesOrParts, joinParts, ProtocolError, partsLength, viewBuffer } from '@unipc/core/spi'
import { addon } from './load-addon.js'
import type { NativeBell, NativeLink, NativeSlab } from './native.js'
import { segmentName } from './paths.js'
import { BLOB_FLAG, FieldReader, FieldWriter, Op, readU32, SLAB_FLAG } from './wire.js'

/** Inline payloads stay at or below this even in large rings; bigger ones go through blobs. */
const INLINE_LIMIT = 64 * 1024
/** Bytes copied out of a ring per read (one batch). */
const BATCH_BYTES = 256 * 1024
/**
 * Bytes read per pump from a link that delivers in chunks (direct links, see
 * {@link ShmLink.chunked}): about 16 small requests or replies.
 */
const CHUNK_BYTES = Number(process.env.UNIPC_SHM_CHUNK ?? 2048)
/** Data bytes of a link direction's slab (mapped pre-faulted by both sides once used). */
const SLAB_CAPACITY = 8 * 1024 * 1024
/** Largest payload sent through the slab; bigger ones (and any that find it full) use blobs. */
const SLAB_MAX_PAYLOAD = SLAB_CAPACITY / 2
/** Frames with more data than this skip the staging buffer when nothing waits before them. */
const STAGE_MAX_DATA = 4096

/** The addon arms an empty ring within read() (see NativeAddon.readArms). */
const READ_ARMS = addon.readArms === true
/** The addon copies a payload given in parts straight into a slab or blob (NativeAddon.writesParts). */
const WRITES_PARTS = addon.writesParts === true
/** The addon reads into a buffer of ours (NativeAddon.readsInto). */
const READS_INTO = addon.readsInto === true
/**
 * The addon's plain functions by link id (NativeAddon.linkRead, linkWrite, linkPending): reads and
 * writes use them when it has all three (a link's id is 0 otherwise, and these are never called).
 */
const noFastCalls = (): never => {
  throw new Error('the shm addon has no fast calls')
}
const linkRead = addon.linkRead ?? noFastCalls
const linkWrite = addon.linkWrite ?? noFastCalls
const linkPending = addon.linkPending ?? noFastCalls
const FAST_CALLS = linkRead !== noFastCalls && linkWrite !== noFastCalls && linkPending !== noFastCalls
/**
 * Size of the buffers reads of a direct link copy messages into, each delivered as a view of its
 * own range: one allocation per 16 KiB read instead of one per read (a chunk is ~2 KiB). A view
 * the application keeps holds its whole buffer, so only direct links (calls, replies, stream items:
 * many, short-lived) read this way; a broker link (settings, status, events, commands, which the
 * core or the application may keep) gets a buffer of the exact size per read.
 */
const READ_BUFFER_BYTES = 16 * 1024

/**
 * A message as the core hands it over: one byte array, or parts read in order as if joined (a
 * large body stays in the application's buffer until it is copied into a slab or blob).
 */
export type Payload = BytesOrParts

/** Total bytes of a payload (core's helper, under the name this package uses). */
export const payloadLength: (p: Payload) => number = partsLength

/** A payload as one byte array (joins parts: a copy, for the rare paths that need one array). */
export const joinPayload: (p: Payload) => Uint8Array = joinParts

/** Large payloads started flowing in this process (or tuning was declined): see NativeAddon.tuneMalloc. */
let largeSeen = false
function largePayloads(): void {
  if (largeSeen) return
  largeSeen = true
  addon.tuneMalloc?.()
}

/**
 * Keeps glibc's allocator as it is in this process (the `tuneMalloc=0` option): the first large
 * payload then does not call NativeAddon.tuneMalloc. Has no effect once it was tuned.
 */
export function keepMallocSettings(): void {
  largeSeen = true
}

/**
 * Links with staged writes (the first `stagedCount`; each listed once, see ShmLink.#listed),
 * flushed together once the current job (and its microtasks) ends. An array and a count: no
 * iterator per flush, no storage freed and made again per job.
 */
const staged: (ShmLink | undefined)[] = []
let stagedCount = 0
let flushScheduled = false
function flushStaged(): void {
  flushScheduled = false
  if (stagedCount > 1) {
    // Done frames last: a request's Done must not become visible before its reply, which may
    // have gone to the caller over another link (flushed here first).
    for (let i = 0; i < stagedCount; i++) flushOrClose(staged[i] as ShmLink, false)
  }
  // (One link: its Done frame goes after its other frames, in the same write.)
  for (let i = 0; i < stagedCount; i++) flushOrClose(staged[i] as ShmLink, true)
  for (let i = 0; i < stagedCount; i++) {
    const link = staged[i] as ShmLink
    link.unlist()
    staged[i] = undefined
  }
  stagedCount = 0
}

function flushOrClose(link: ShmLink, dones: boolean): void {
  try {
    if (dones) link.flushDones()
    else link.flush()
  } catch {
    // The peer corrupted the ring: closing the link ends its socket, whose close handler
    // reports the peer gone (as when the reader finds the corruption).
    link.close()
  }
}

const EMPTY = Buffer.alloc(0)

/** Builds the fields of ShmLink.sendIds' larger messages. */
const idFields = new FieldWriter()

/** Stores `v` as a little-endian u32 at `at`: by hand, cheaper than writeUInt32LE per frame. */
function writeU32(buf: Buffer, at: number, v: number): void {
  buf[at] = v
  buf[at + 1] = v >>> 8
  buf[at + 2] = v >>> 16
  buf[at + 3] = v >>> 24
}

/**
 * Where a direct link hands its common messages (inline Inbox, Request and Done), read straight
 * from the read buffer by offset: no Frame, no FieldReader, one Buffer view per message made by
 * its constructor (core's viewBuffer). Other messages go to the endpoint's onFrame as before.
 */
export interface DirectSink {
  /** An inline Inbox message (a reply, stream item, cancel or credit frame of the core). */
  inbox(data: Uint8Array): void
  /** An inline Request for server `sid` of this bus, delivery id `did` on `link`. */
  request(link: ShmLink, sid: number, did: number, data: Uint8Array): void
  /** The peer finished request `did` (sent by this bus). */
  done(did: number): void
  /** A handler threw for message `op` from `link`'s peer: its fault, not ours; log and go on. */
  dropped(link: ShmLink, op: number, err: unknown): void
}

/** A blob segment named in a received message, passed on to one recipient without reading it. */
export class BlobRef {
  /** @param name - the segment name; @param length - its size in bytes */
  constructor(
    readonly name: string,
    readonly length: number,
  ) {}
}

/** A received message: its op, a reader positioned at its fields, and whether its data is a blob. */
export interface Frame {
  readonly op: number
  readonly fields: FieldReader
  readonly blob: boolean
  /** The data part is a slab descriptor (see {@link ShmLink.data}). */
  readonly slab: boolean
}

/** A link to one peer process. */
export class ShmLink {
  readonly #native: NativeLink
  /** The native link's id for the addon's fast calls (see FAST_CALLS); 0 without them. */
  readonly #id: number
  /** The read buffer the addon knows (NativeLink.setReadBuffer). */
  #readBufSet: Buffer = EMPTY
  readonly #maxInline: number
  /**
   * Frames not yet in the ring, in order, as `[u32 length][u32 type][payload]` records: written
   * in one native call per job (one doorbell ring at most), or kept while the ring is full.
   */
  #stage: Buffer = Buffer.allocUnsafe(16 * 1024)
  #stageLen = 0
  /** Some staged frame wants the reader woken (not all are quiet). */
  #stageLoud = false
  /** In `staged` (a flag: cheaper than adding to the set for every frame). */
  #listed = false
  /**
   * Delivery ids of requests finished this job, sent as one quiet Done frame (see done()): the
   * first `#doneCount` (a count rather than the length: emptying an array frees its storage).
   */
  readonly #dones: number[] = []
  #doneCount = 0
  /** The buffer reads copy into, and where the next read goes (see READ_BUFFER_BYTES). */
  #readBuf: Buffer = EMPTY
  #readAt = 0
  /** The reusable frame handed to onFrame (read synchronously, never kept). */
  readonly #frame: { op: number; fields: FieldReader; blob: boolean; slab: boolean }
  readonly #blobs = new Set<string>()
  /** Our slab for large payloads to the peer (made on first use) and the peer's to us. */
  #slabOut: { readonly name: string; readonly slab: NativeSlab } | undefined
  #slabIn: { readonly name: string; readonly slab: NativeSlab } | undefined
  #peerBell = -1
  #closed = false
  /**
   * Each pump reads one chunk of this link (about 16 small messages) rather than all it holds, so
   * what the chunk triggers (the replies, the next requests) is written before the next chunk is
   * read: the peer, polling or awake, starts on them while this side goes on, instead of both
   * sides taking turns over whole batches. Set on direct links between buses; a broker link is
   * drained whole (see Endpoint.pump). Also selects shared read buffers (see READ_BUFFER_BYTES).
   */
  chunked = false
  /** Set on direct links by the endpoint: see {@link DirectSink}. */
  direct: DirectSink | undefined

  /**
   * @param native - the mapped segment
   * @param segment - its name (unlinked when the link closes)
   * @param bus - the bus name, for blob names
   * @param socket - the rendezvous socket (EOF = the peer died)
   * @param peerPid - the peer's pid, for messages
   */
  constructor(
    native: NativeLink,
    readonly segment: string,
    readonly bus: string,
    readonly socket: Socket,
    readonly peerPid: number,
  ) {
    this.#native = native
    this.#id = FAST_CALLS ? (native.id ?? 0) : 0
    if (this.#id !== 0) native.setStage?.(this.#stage)
    this.#maxInline = Math.min(INLINE_LIMIT, addon.maxInlinePayload(native.capacity))
    this.#frame = { op: 0, fields: new FieldReader(this.#stage, 0, 0), blob: false, slab: false }
  }

  /** Bytes of frames waiting to go into the ring (staged this job, or waiting for space). */
  get pendingWrites(): number {
    return this.#stageLen
  }

  /** Ring positions and flags (diagnostics), see NativeLink.stats. */
  stats(): number[] {
    return this.#closed ? [] : this.#native.stats()
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed
  }

  /** Has `bell` poll this link's incoming ring while it spins (see NativeBell.spin). */
  pollBy(bell: NativeBell): void {
    if (!this.#closed) bell.watch?.(this.#native)
  }

  /** Opens the peer's bell FIFO so writes can wake it. */
  setPeerBell(path: string): void {
    this.#peerBell = addon.openPeerBell(path)
    this.#native.setPeerBell(this.#peerBell)
  }

  /**
   * Sends one message: `fields` (already written) then `data`. Data too large for the ring goes
   * into a blob segment and the ring carries its name. Order is kept even when the ring is full.
   * Frames are staged and written together once the current job ends; `urgent` writes what is
   * staged at once (a stream's credit: its server idles until it arrives). `quiet` frames wake
   * nobody (see NativeLink.write).
   */
  send(op: number, fields: FieldWriter, data?: Payload | BlobRef, quiet = false, urgent = false): void {
    if (this.#closed) return
    // The common case first: one small byte array (every event, request and reply below 4 KiB).
    if (
      data instanceof Uint8Array &&
      data.length <= STAGE_MAX_DATA &&
      data.length + fields.length <= this.#maxInline
    ) {
      this.#stageFrame(op, fields, data, quiet, urgent)
      return
    }
    let type = op
    let body: Uint8Array | undefined
    const length = data === undefined || data instanceof BlobRef ? 0 : payloadLength(data)
    if (data instanceof BlobRef) {
      // Relayed as is: the final reader takes the blob, nobody copies it on the way.
      fields.str(data.name).f64(data.length)
      type |= BLOB_FLAG
    } else if (data && length + fields.length > this.#maxInline) {
      largePayloads()
      // Parts (frame start, the application's body, frame end) are copied straight in.
      const bytes = WRITES_PARTS ? data : joinPayload(data)
      const slab = length <= SLAB_MAX_PAYLOAD ? this.#outSlab() : undefined
      const at = slab ? slab.slab.write(undefined, bytes) : -1
      if (slab && at >= 0) {
        // Copied in once; the reader copies it out and frees the space (positions stay in order).
        fields.str(slab.name).f64(at).f64(length)
        this.#stageFrame(type | SLAB_FLAG, fields, undefined, quiet, urgent)
        return
      }
      const name = segmentName(this.bus, 'b')
      addon.writeBlob(name, undefined, bytes)
      this.#trackBlob(name)
      fields.str(name).f64(length)
      type |= BLOB_FLAG
    } else if (data) body = joinPayload(data)
    const bodyLen = body ? body.length : 0
    // A big frame with nothing staged before it goes straight in (no copy into the stage).
    if (
      bodyLen > STAGE_MAX_DATA &&
      this.#stageLen === 0 &&
      this.#native.write(type, fields.view(), body, quiet)
    )
      return
    this.#stageFrame(type, fields, body, quiet, urgent)
  }

  /**
   * Tells the peer (a caller, on a direct link) that request `did` is finished. The ids of one job
   * go in one quiet Done frame, written after every other staged frame of the job: one frame per
   * wake-up instead of one per request. The reply has woken the caller already.
   */
  done(did: number): void {
    if (this.#closed) return
    this.#dones[this.#doneCount++] = did
    this.#list()
  }

  /** Has this link flushed once the current job (and its microtasks) ends. */
  #list(): void {
    if (this.#listed) return
    this.#listed = true
    staged[stagedCount++] = this
    if (!flushScheduled) {
      flushScheduled = true
      // After the current job's microtasks: everything a wake-up produced goes in one write.
      process.nextTick(flushStaged)
    }
  }

  /** Taken out of the staged set (by flushStaged, which clears it). */
  unlist(): void {
    this.#listed = false
  }

  /** Stages the pending Done frame (see done()) after the staged frames, and writes them all. */
  flushDones(): void {
    const n = this.#doneCount
    if (n > 0 && !this.#closed) {
      // Written into the stage by hand, quiet (see done()).
      const dones = this.#dones
      const buf = this.#header(Op.Done, n * 4)
      let at = this.#stageLen + 8
      for (let i = 0; i < n; i++, at += 4) writeU32(buf, at, dones[i] as number)
      this.#stageLen = at
      this.#doneCount = 0
    }
    this.flush()
  }

  #stageFrame(
    type: number,
    fields: FieldWriter,
    body: Uint8Array | undefined,
    quiet: boolean,
    urgent: boolean,
  ): void {
    this.#append(type, fields, body, quiet)
    if (urgent) {
      // Now rather than at the end of the job: the peer may be waiting for just this.
      this.flush()
      if (this.#stageLen === 0) return
    }
    this.#list()
  }

  /**
   * Sends a message whose fields are `count` (0 to 2) u32 numbers, `a` then `b`, then `data`: as
   * {@link ShmLink.send}, but a small one goes into the stage without a FieldWriter (requests,
   * replies and stream items: the frames of every call).
   */
  sendIds(op: number, count: number, a: number, b: number, data: Payload, urgent = false): void {
    if (this.#closed) return
    if (data instanceof Uint8Array && data.length <= STAGE_MAX_DATA && data.length + 8 <= this.#maxInline) {
      const buf = this.#header(op, count * 4 + data.length)
      let at = this.#stageLen + 8
      if (count > 0) {
        writeU32(buf, at, a)
        at += 4
        if (count > 1) {
          writeU32(buf, at, b)
          at += 4
        }
      }
      buf.set(data, at)
      this.#stageLen = at + data.length
      this.#stageLoud = true
      if (urgent) {
        this.flush()
        if (this.#stageLen === 0) return
      }
      this.#list()
      return
    }
    const w = idFields.reset()
    if (count > 0) w.u32(a)
    if (count > 1) w.u32(b)
    this.send(op, w, data, false, urgent)
  }

  /**
   * Makes room for a frame record with a payload of `len` bytes and writes its header at the end of
   * the stage; returns the stage (the payload goes at `stageLen + 8`).
   */
  #header(type: number, len: number): Buffer {
    const need = this.#stageLen + 8 + len
    if (need > this.#stage.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.#stage.length * 2))
      this.#stage.copy(next, 0, 0, this.#stageLen)
      this.#setStage(next)
    }
    const buf = this.#stage
    writeU32(buf, this.#stageLen, len)
    writeU32(buf, this.#stageLen + 4, type)
    return buf
  }

  /** Appends one frame record to the stage. */
  #append(type: number, fields: FieldWriter, body: Uint8Array | undefined, quiet: boolean): void {
    const headLen = fields.length
    const buf = this.#header(type, headLen + (body ? body.length : 0))
    let at = this.#stageLen + 8
    fields.copyTo(buf, at)
    at += headLen
    if (body) {
      buf.set(body, at)
      at += body.length
    }
    this.#stageLen = at
    if (!quiet) this.#stageLoud = true
  }

  /** Replaces the stage (the addon writes from it by id: it is told). */
  #setStage(buf: Buffer): void {
    this.#stage = buf
    if (this.#id !== 0) this.#native.setStage?.(buf)
  }

  /** Writes staged frames into the ring, in order; what does not fit waits for the reader's ring. */
  flush(): void {
    if (this.#stageLen === 0 || this.#closed) return
    const done =
      this.#id !== 0
        ? linkWrite(this.#id, this.#stageLen, this.#stageLoud)
        : this.#native.writeBatch(this.#stage, this.#stageLen, this.#stageLoud)
    if (done === this.#stageLen) {
      this.#stageLen = 0
      this.#stageLoud = false
      if (this.#stage.length > 1024 * 1024) this.#setStage(Buffer.allocUnsafe(16 * 1024))
    } else if (done > 0) {
      this.#stage.copy(this.#stage, 0, done, this.#stageLen)
      this.#stageLen -= done
    }
  }

  /**
   * Reads one batch and hands each message to `onFrame`. Returns false when the ring was empty.
   * @throws when the peer corrupted the ring (the caller closes the link)
   */
  readBatch(onFrame: (frame: Frame) => void, maxBytes = BATCH_BYTES): boolean {
    if (this.#closed) return false
    if (READS_INTO && this.chunked) return this.#readInto(onFrame, maxBytes, false)
    // An empty ring (a broker link between messages, looked at by every pump) costs one load.
    if (this.#id !== 0 && !linkPending(this.#id)) return false
    const buf = this.#native.read(maxBytes)
    if (!buf) return false
    this.#deliver(buf, 0, buf.length, onFrame)
    return true
  }

  /**
   * Reads one batch into the current read buffer (a new one when too little room is left) and
   * delivers it; false when the ring was empty (and is armed, with `arm`).
   */
  #readInto(onFrame: (frame: Frame) => void, maxBytes: number, arm: boolean): boolean {
    let into = this.#readBuf
    let at = this.#readAt
    // Less room than a chunk: a fresh buffer rather than a short read.
    if (into.length - at < Math.min(maxBytes, 4096)) {
      into = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
      at = 0
    }
    let end = this.#readFrom(into, at, maxBytes, arm)
    if (end < 0) {
      // The next message alone is larger than the room left: a buffer of its own.
      into = Buffer.allocUnsafeSlow(Math.max(-end, READ_BUFFER_BYTES))
      at = 0
      end = this.#readFrom(into, 0, maxBytes, arm)
      if (end < 0) throw new ProtocolError('shm ring frame changed size while it was read')
    }
    if (end === 0) return false
    this.#readBuf = into
    this.#readAt = end
    if (this.direct) this.#deliverDirect(into, at, end, onFrame, this.direct)
    else this.#deliver(into, at, end, onFrame)
    return true
  }

  /** NativeLink.read into `into` from `at` (by the addon's fast call when it has them). */
  #readFrom(into: Buffer, at: number, maxBytes: number, arm: boolean): number {
    if (this.#id === 0) return this.#native.read(maxBytes, arm, into, at)
    if (into !== this.#readBufSet) {
      this.#native.setReadBuffer?.(into)
      this.#readBufSet = into
    }
    return linkRead(this.#id, maxBytes, arm, at)
  }

  /**
   * Like {@link ShmLink.readBatch}, but an empty ring is armed in the same native call. Returns
   * false once the ring is empty and armed (or the link closed): the peer rings before writing more.
   * @throws when the peer corrupted the ring (the caller closes the link)
   */
  readOrArm(onFrame: (frame: Frame) => void, maxBytes = BATCH_BYTES): boolean {
    if (this.#closed) return false
    if (!READ_ARMS) return this.readBatch(onFrame, maxBytes) || !this.#native.arm()
    if (READS_INTO && this.chunked) return this.#readInto(onFrame, maxBytes, true)
    const buf = this.#native.read(maxBytes, true)
    if (!buf) return false
    this.#deliver(buf, 0, buf.length, onFrame)
    return true
  }

  /** Bytes one pump reads from this link (see {@link ShmLink.chunked}). */
  get readBytes(): number {
    return this.chunked ? CHUNK_BYTES : BATCH_BYTES
  }

  /** Hands each frame of a batch to `onFrame` (one reusable Frame, read synchronously). */
  #deliver(buf: Buffer, from: number, end: number, onFrame: (frame: Frame) => void): void {
    let at = from
    // Native read() checked every length against what it copied.
    while (at + 8 <= end) {
      const start = at + 8
      at = start + readU32(buf, at)
      this.#deliverFrame(buf, start, at, readU32(buf, start - 4), onFrame)
    }
  }

  /** Hands one frame (type `type`, payload from `start` to `end` of `buf`) to `onFrame`. */
  #deliverFrame(
    buf: Buffer,
    start: number,
    end: number,
    type: number,
    onFrame: (frame: Frame) => void,
  ): void {
    const frame = this.#frame
    frame.op = type & 0xffff
    frame.blob = (type & BLOB_FLAG) !== 0
    frame.slab = (type & SLAB_FLAG) !== 0
    frame.fields.reset(buf, start, end)
    onFrame(frame)
  }

  /**
   * Like {@link ShmLink.#deliver}, but inline Inbox, Request and Done frames go to `sink`, their
   * fields read by offset and their data a view made by its constructor (see DirectSink).
   */
  #deliverDirect(
    buf: Buffer,
    from: number,
    end: number,
    onFrame: (frame: Frame) => void,
    sink: DirectSink,
  ): void {
    const memory = buf.buffer as ArrayBuffer
    const base = buf.byteOffset
    let at = from
    while (at + 8 <= end) {
      const len = readU32(buf, at)
      const type = readU32(buf, at + 4)
      const start = at + 8
      at = start + len
      try {
        if (type === Op.Inbox) sink.inbox(viewBuffer(memory, base + start, len))
        else if (type === Op.Request && len >= 8)
          sink.request(
            this,
            readU32(buf, start),
            readU32(buf, start + 4),
            viewBuffer(memory, base + start + 8, len - 8),
          )
        else if (type === Op.Done && len > 0 && (len & 3) === 0)
          // One or more delivery ids: a server writes a job's Dones in one frame.
          for (let p = start; p < at; p += 4) sink.done(readU32(buf, p))
        else this.#deliverFrame(buf, start, at, type, onFrame)
      } catch (err) {
        sink.dropped(this, type & 0xffff, err)
      }
    }
  }

  /** Our slab, made on first use; undefined when it cannot be made (blobs then). */
  #outSlab(): { name: string; slab: NativeSlab } | undefined {
    if (this.#slabOut || this.#closed) return this.#slabOut
    const name = segmentName(this.bus, 's')
    try {
      this.#slabOut = { name, slab: new addon.Slab(name, SLAB_CAPACITY, true) }
    } catch {
      // No memory for it (or /dev/shm is full): large payloads keep using blob segments.
      return undefined
    }
    return this.#slabOut
  }

  /** Copies a payload out of the peer's slab (mapping it the first time it is named). */
  #fromSlab(frame: Frame): Buffer {
    largePayloads()
    const name = frame.fields.str()
    const at = frame.fields.length()
    const length = frame.fields.length()
    let slabIn = this.#slabIn
    if (slabIn?.name !== name) {
      // A peer makes one slab per link direction: a second name is a new writer after a
      // reconnect at most; the old mapping goes.
      slabIn?.slab.close()
      this.#slabIn = undefined
      slabIn = { name, slab: new addon.Slab(name, SLAB_CAPACITY, false) }
      this.#slabIn = slabIn
    }
    // The native side checks the range; this only keeps a hostile length from a huge allocation.
    if (length > SLAB_CAPACITY) throw new ProtocolError('shm slab descriptor has an invalid length')
    // Allocated here rather than natively: JS reuses freed memory, a fresh native allocation of this
    // size page-faults on every page.
    return slabIn.slab.read(at, length, Buffer.allocUnsafeSlow(length))
  }

  /** The data part of a message whose fields were read: inline bytes or the blob's contents. */
  data(frame: Frame): Uint8Array {
    if (frame.slab) return this.#fromSlab(frame)
    if (!frame.blob) return frame.fields.rest()
    const name = frame.fields.str()
    const length = frame.fields.length()
    largePayloads()
    return addon.readBlob(name, length)
  }

  /**
   * The data part without taking it: inline bytes (a view), or a reference to the blob for a
   * single onward recipient (see {@link ShmLink.send}).
   */
  payload(frame: Frame): Uint8Array | BlobRef {
    // Slab space belongs to this link: its payload is copied out (and sent on as a new one).
    if (frame.slab) return this.#fromSlab(frame)
    if (!frame.blob) return frame.fields.rest()
    return new BlobRef(frame.fields.str(), frame.fields.length())
  }

  /** Arms the reader; false when data arrived meanwhile. */
  arm(): boolean {
    return this.#closed || this.#native.arm()
  }

  /** Closes the link: unmaps, removes its segment and any blob the peer did not take. Idempotent. */
  close(): void {
    if (this.#closed) return
    // What this job staged still goes in (the peer may be alive: a graceful close).
    try {
      this.flushDones()
    } catch {
      // The peer broke the ring: nothing more to deliver.
    }
    this.#closed = true
    this.#stageLen = 0
    // Still in `staged` when listed: flushing a closed link does nothing.
    this.#listed = false
    this.socket.destroy()
    this.#native.close()
    if (this.#peerBell >= 0) addon.closeFd(this.#peerBell)
    this.#peerBell = -1
    addon.unlinkSegment(this.segment)
    // Both slabs go with the link, like its segment: the peer is gone or closing too.
    if (this.#slabIn) {
      this.#slabIn.slab.close()
      addon.unlinkSegment(this.#slabIn.name)
      this.#slabIn = undefined
    }
    if (this.#slabOut) {
      this.#slabOut.slab.close()
      addon.unlinkSegment(this.#slabOut.name)
      this.#slabOut = undefined
    }
    for (const name of this.#blobs) addon.unlinkSegment(name)
    this.#blobs.clear()
  }

  /** Remembers blobs we made so a dead peer's untaken ones are removed; forgets taken ones. */
  #trackBlob(name: string): void {
    if (this.#blobs.size >= 64) {
      for (const b of this.#blobs) if (!existsSync(`/dev/shm${b}`)) this.#blobs.delete(b)
    }
    this.#blobs.add(name)
  }
}
