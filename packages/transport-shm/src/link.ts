/**
 * One link between two processes: a mapped link segment (a ring each way), the peer's doorbell
 * and the rendezvous socket whose EOF means the peer died. Messages larger than the inline limit
 * travel as blob segments named in the ring (one copy in, one copy out).
 * @module
 */
import { existsSync } from 'node:fs'
import type { Socket } from 'node:net'
import { addon } from './load-addon.js'
import type { NativeLink } from './native.js'
import { segmentName } from './paths.js'
import { BLOB_FLAG, FieldReader, type FieldWriter } from './wire.js'

/** Inline payloads stay at or below this even in large rings; bigger ones go through blobs. */
const INLINE_LIMIT = 64 * 1024
/** Bytes copied out of a ring per read (one batch). */
const BATCH_BYTES = 256 * 1024

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
}

interface PendingWrite {
  readonly type: number
  readonly head: Uint8Array
  readonly body: Uint8Array | undefined
}

/** A link to one peer process. */
export class ShmLink {
  readonly #native: NativeLink
  readonly #maxInline: number
  /** Writes that found the ring full, oldest first from #pendingHead (a queue without O(n) shift). */
  #pending: PendingWrite[] = []
  #pendingHead = 0
  readonly #blobs = new Set<string>()
  #peerBell = -1
  #closed = false

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
    this.#maxInline = Math.min(INLINE_LIMIT, addon.maxInlinePayload(native.capacity))
  }

  /** Writes waiting for ring space (diagnostics). */
  get pendingWrites(): number {
    return this.#pending.length - this.#pendingHead
  }

  /** Ring positions and flags (diagnostics), see NativeLink.stats. */
  stats(): number[] {
    return this.#closed ? [] : this.#native.stats()
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed
  }

  /** Opens the peer's bell FIFO so writes can wake it. */
  setPeerBell(path: string): void {
    this.#peerBell = addon.openPeerBell(path)
    this.#native.setPeerBell(this.#peerBell)
  }

  /**
   * Sends one message: `fields` (already written) then `data`. Data too large for the ring goes
   * into a blob segment and the ring carries its name. Order is kept even when the ring is full.
   */
  send(op: number, fields: FieldWriter, data?: Uint8Array | BlobRef, quiet = false): void {
    if (this.#closed) return
    let type = op
    let body: Uint8Array | undefined
    if (data instanceof BlobRef) {
      // Relayed as is: the final reader takes the blob, nobody copies it on the way.
      fields.str(data.name).f64(data.length)
      type |= BLOB_FLAG
    } else if (data && data.length + fields.view().length > this.#maxInline) {
      const name = segmentName(this.bus, 'b')
      addon.writeBlob(name, undefined, data)
      this.#trackBlob(name)
      fields.str(name).f64(data.length)
      type |= BLOB_FLAG
    } else body = data
    const head = fields.view()
    if (this.#pending.length === 0 && this.#native.write(type, head, body, quiet)) return
    this.#pending.push({ type, head: new Uint8Array(head), body })
  }

  /** Retries writes that found the ring full, in order. */
  flush(): void {
    const queue = this.#pending
    let i = this.#pendingHead
    while (i < queue.length && !this.#closed) {
      const w = queue[i] as PendingWrite
      if (!this.#native.write(w.type, w.head, w.body)) break
      queue[i++] = undefined as unknown as PendingWrite
    }
    if (i >= queue.length) {
      this.#pending = []
      this.#pendingHead = 0
    } else if (i > 1024 && i * 2 > queue.length) {
      this.#pending = queue.slice(i)
      this.#pendingHead = 0
    } else this.#pendingHead = i
  }

  /**
   * Reads one batch and hands each message to `onFrame`. Returns false when the ring was empty.
   * @throws when the peer corrupted the ring (the caller closes the link)
   */
  readBatch(onFrame: (frame: Frame) => void): boolean {
    if (this.#closed) return false
    const buf = this.#native.read(BATCH_BYTES)
    if (!buf) return false
    let at = 0
    while (at + 8 <= buf.length) {
      const len = buf.readUInt32LE(at)
      const type = buf.readUInt32LE(at + 4)
      const start = at + 8
      at = start + len
      onFrame({ op: type & 0xffff, fields: new FieldReader(buf, start, at), blob: (type & BLOB_FLAG) !== 0 })
    }
    return true
  }

  /** The data part of a message whose fields were read: inline bytes or the blob's contents. */
  data(frame: Frame): Uint8Array {
    if (!frame.blob) return frame.fields.rest()
    const name = frame.fields.str()
    const length = frame.fields.length()
    return addon.readBlob(name, length)
  }

  /**
   * The data part without taking it: inline bytes (a view), or a reference to the blob for a
   * single onward recipient (see {@link ShmLink.send}).
   */
  payload(frame: Frame): Uint8Array | BlobRef {
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
    this.#closed = true
    this.#pending = []
    this.#pendingHead = 0
    this.socket.destroy()
    this.#native.close()
    if (this.#peerBell >= 0) addon.closeFd(this.#peerBell)
    this.#peerBell = -1
    addon.unlinkSegment(this.segment)
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
