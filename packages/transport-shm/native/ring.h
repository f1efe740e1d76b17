// The SPSC byte ring of the shm transport: pure C++17, no Node-API, so the sanitizer test binary
// (native/test/ring_test.cc) exercises exactly the code the addon runs.
//
// Layout and commit protocol are documented byte by byte in docs/protocol/shm.md. In short:
// - a ring is a 256-byte control block followed by `cap` data bytes (cap a power of two);
// - head (reader position), tail (writer position), reader-armed and writer-waiting flags each sit
//   on their own 64-byte cache line; positions are 64-bit and never wrap;
// - a frame is an 8-byte header (u32 length, u32 type, little-endian) and the payload, padded to 8;
//   frames never straddle the end: a pad frame fills the rest of the ring instead;
// - the writer copies the payload, stores the header, then publishes tail (release): a frame is
//   visible only once complete;
// - every length and position read from shared memory is checked: the other process may be corrupt
//   or hostile, so a bad value is reported as corruption and never used to index memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace unipc_shm {

constexpr uint32_t kPadType = 0xFFFFFFFFu;
constexpr size_t kRingControlSize = 256;
constexpr uint64_t kMinCapacity = 4096;
constexpr uint64_t kMaxCapacity = 1ull << 30;

struct alignas(64) RingControl {
  std::atomic<uint64_t> head;  // offset 0: next byte the reader will read (reader writes)
  char pad0[56];
  std::atomic<uint64_t> tail;  // offset 64: end of the last committed frame (writer writes)
  char pad1[56];
  std::atomic<uint32_t> readerArmed;  // offset 128: 1 = reader sleeps on its doorbell, ring it
  char pad2[60];
  std::atomic<uint32_t> writerWaiting;  // offset 192: 1 = writer found the ring full, ring it
  char pad3[60];
};
static_assert(sizeof(RingControl) == kRingControlSize, "control block is 256 bytes");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "64-bit atomics must be lock-free");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "32-bit atomics must be lock-free");

inline uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

inline bool ValidCapacity(uint64_t cap) {
  return cap >= kMinCapacity && cap <= kMaxCapacity && (cap & (cap - 1)) == 0;
}

// Largest payload a ring of `cap` bytes carries inline (bigger ones go through a blob segment).
inline uint64_t MaxInlinePayload(uint64_t cap) { return cap / 4 - 8; }

struct RingView {
  RingControl* ctl;
  uint8_t* data;
  uint64_t cap;
};

enum class WriteResult { kFull, kWritten, kWrittenWake, kCorrupt, kTooBig };

// The writing end. Keeps its own copy of tail: the value in shared memory is only ever stored.
// It also remembers the last head it read and reads head again only when that one leaves too
// little room (head only grows, so an old value is a safe, pessimistic bound), and a batch of
// frames publishes tail once: fewer cache lines bouncing between the two processes' cores.
class RingWriter {
 public:
  RingWriter() = default;
  explicit RingWriter(RingView view) : r_(view), tail_(0), published_(0), head_(0) {}

  // Appends one frame whose payload is `a` followed by `b`. kWrittenWake means the reader was
  // asleep: the caller rings its doorbell. kFull means nothing was written (frames written before
  // in this batch are published) and writerWaiting is set: the reader will ring our doorbell once
  // it frees space.
  // `quiet` skips the wake-up: the frame waits until the reader wakes for another reason (used
  // for acknowledgements nobody waits on alone).
  // `publish` false leaves the frame unpublished: Publish() (or a later publishing Write) makes
  // it and all before it visible at once.
  WriteResult Write(uint32_t type, const uint8_t* a, uint64_t alen, const uint8_t* b, uint64_t blen,
                    bool quiet = false, bool publish = true) {
    const uint64_t len = alen + blen;
    if (len > MaxInlinePayload(r_.cap)) return WriteResult::kTooBig;
    const uint64_t need = 8 + Align8(len);
    const uint64_t off = tail_ & (r_.cap - 1);
    const uint64_t room = r_.cap - off;
    const uint64_t total = need + (room < need ? room : 0);
    if (r_.cap - (tail_ - head_) < total) {
      uint64_t head = r_.ctl->head.load(std::memory_order_acquire);
      if (head > tail_ || head < head_ || tail_ - head > r_.cap) return WriteResult::kCorrupt;
      head_ = head;
      if (r_.cap - (tail_ - head) < total) {
        Publish();
        r_.ctl->writerWaiting.store(1, std::memory_order_seq_cst);
        head = r_.ctl->head.load(std::memory_order_seq_cst);
        if (head > tail_ || head < head_ || tail_ - head > r_.cap) return WriteResult::kCorrupt;
        head_ = head;
        if (r_.cap - (tail_ - head) < total) return WriteResult::kFull;
        r_.ctl->writerWaiting.store(0, std::memory_order_relaxed);
      }
    }
    uint64_t pos = tail_;
    if (room < need) {
      StoreHeader(off, room - 8, kPadType);
      pos += room;
    }
    const uint64_t at = pos & (r_.cap - 1);
    if (alen) std::memcpy(r_.data + at + 8, a, alen);
    if (blen) std::memcpy(r_.data + at + 8 + alen, b, blen);
    StoreHeader(at, len, type);
    tail_ = pos + need;
    if (!publish) return WriteResult::kWritten;
    Publish();
    if (quiet) return WriteResult::kWritten;
    return TakeArmed() ? WriteResult::kWrittenWake : WriteResult::kWritten;
  }

  // Makes every frame written so far visible to the reader.
  void Publish() {
    if (published_ == tail_) return;
    published_ = tail_;
    r_.ctl->tail.store(tail_, std::memory_order_seq_cst);
  }

  // After Publish: true when the reader sleeps (it is disarmed now: ring its doorbell once).
  // Dekker pairing with the reader's Arm(): tail is stored before armed is read (seq_cst).
  bool TakeArmed() {
    return r_.ctl->readerArmed.load(std::memory_order_seq_cst) != 0 &&
           r_.ctl->readerArmed.exchange(0, std::memory_order_seq_cst) != 0;
  }

 private:
  void StoreHeader(uint64_t at, uint64_t len, uint32_t type) {
    const uint64_t word = (len & 0xFFFFFFFFull) | (uint64_t{type} << 32);
    __atomic_store_n(reinterpret_cast<uint64_t*>(r_.data + at), word, __ATOMIC_RELEASE);
  }

  RingView r_{};
  uint64_t tail_ = 0;
  uint64_t published_ = 0;
  uint64_t head_ = 0;
};

struct FrameRef {
  uint64_t offset;  // of the payload within the data area
  uint32_t length;
  uint32_t type;
};

enum class ReadResult { kOk, kCorrupt };

// The reading end. Keeps its own copy of head and validates everything the writer published.
class RingReader {
 public:
  RingReader() = default;
  explicit RingReader(RingView view) : r_(view), head_(0) {}

  // Collects committed frames, at most `maxBytes` of payload plus headers (always at least one
  // frame when one is there). `next` receives the position after the last collected frame; pass it
  // to Commit once the payloads are copied out. On corruption `error` says what was wrong.
  ReadResult Scan(uint64_t maxBytes, std::vector<FrameRef>& out, uint64_t& next, const char*& error) const {
    out.clear();
    const uint64_t tail = r_.ctl->tail.load(std::memory_order_acquire);
    next = head_;
    if (tail < head_ || tail - head_ > r_.cap || (tail & 7) != 0) {
      error = "ring tail is out of range";
      return ReadResult::kCorrupt;
    }
    uint64_t pos = head_;
    uint64_t bytes = 0;
    while (pos < tail) {
      const uint64_t off = pos & (r_.cap - 1);
      if (tail - pos < 8) {
        error = "frame header runs past the committed tail";
        return ReadResult::kCorrupt;
      }
      const uint64_t word = __atomic_load_n(reinterpret_cast<const uint64_t*>(r_.data + off), __ATOMIC_ACQUIRE);
      const uint64_t len = word & 0xFFFFFFFFull;
      const uint32_t type = static_cast<uint32_t>(word >> 32);
      if (type == kPadType) {
        const uint64_t skip = r_.cap - off;
        if (len != skip - 8 || tail - pos < skip) {
          error = "pad frame length does not reach the end of the ring";
          return ReadResult::kCorrupt;
        }
        pos += skip;
        continue;
      }
      const uint64_t need = 8 + Align8(len);
      if (len > MaxInlinePayload(r_.cap) || off + need > r_.cap || tail - pos < need) {
        error = "frame length is out of bounds";
        return ReadResult::kCorrupt;
      }
      if (!out.empty() && bytes + 8 + len > maxBytes) break;
      out.push_back(FrameRef{off + 8, static_cast<uint32_t>(len), type});
      bytes += 8 + len;
      pos += need;
    }
    next = pos;
    return ReadResult::kOk;
  }

  // Releases the bytes up to `next`; returns true when the writer waits for space (ring its bell).
  bool Commit(uint64_t next) {
    head_ = next;
    r_.ctl->head.store(head_, std::memory_order_seq_cst);
    return r_.ctl->writerWaiting.load(std::memory_order_seq_cst) != 0 &&
           r_.ctl->writerWaiting.exchange(0, std::memory_order_seq_cst) != 0;
  }

  // Announces that the reader is about to sleep. Returns false (and disarms) when data arrived
  // meanwhile: the caller drains again instead of sleeping.
  bool Arm() {
    r_.ctl->readerArmed.store(1, std::memory_order_seq_cst);
    if (r_.ctl->tail.load(std::memory_order_seq_cst) != head_) {
      r_.ctl->readerArmed.store(0, std::memory_order_seq_cst);
      return false;
    }
    return true;
  }

  // True when the writer published bytes the reader has not taken: one load, no side effect (the
  // busy-poll before sleeping calls it in a loop, see Spinner in addon.cc). A corrupt tail also
  // reads as pending: the Scan that follows reports it.
  bool Pending() const { return r_.ctl->tail.load(std::memory_order_acquire) != head_; }

  // Like Arm(), but stores nothing when the ring is armed already (the check before every sleep
  // re-arms rings that stayed armed). False when data is there: drain instead of sleeping.
  bool EnsureArmed() {
    if (r_.ctl->readerArmed.load(std::memory_order_seq_cst) == 0) return Arm();
    return r_.ctl->tail.load(std::memory_order_seq_cst) == head_;
  }

  const uint8_t* data() const { return r_.data; }

 private:
  RingView r_{};
  uint64_t head_ = 0;
};

// ---- segment header (link segments) ----

constexpr uint64_t kMagic = 0x3148534350494E55ull;  // "UNIPCSH1" read as little-endian bytes
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 256;

struct SegmentHeader {
  uint64_t magic;         // 0
  uint32_t version;       // 8
  uint32_t headerSize;    // 12
  uint64_t capacity;      // 16: data bytes per ring
  uint32_t creatorPid;    // 24
  uint32_t reserved;      // 28
};

inline uint64_t LinkSegmentSize(uint64_t cap) { return kHeaderSize + 2 * (kRingControlSize + cap); }

inline RingView RingAt(uint8_t* base, uint64_t cap, int index) {
  uint8_t* ring = base + kHeaderSize + static_cast<uint64_t>(index) * (kRingControlSize + cap);
  return RingView{reinterpret_cast<RingControl*>(ring), ring + kRingControlSize, cap};
}

// Checks a mapped link segment's header against its real size; returns nullptr when valid.
inline const char* ValidateHeader(const uint8_t* base, uint64_t mappedSize, uint64_t& capOut) {
  if (mappedSize < kHeaderSize) return "segment is smaller than its header";
  SegmentHeader h;
  std::memcpy(&h, base, sizeof h);
  if (h.magic != kMagic) return "segment magic is not UNIPCSH1";
  if (h.version != kVersion) return "segment version is not supported";
  if (h.headerSize != kHeaderSize) return "segment header size is wrong";
  if (!ValidCapacity(h.capacity)) return "ring capacity is not a power of two between 4 KiB and 1 GiB";
  if (LinkSegmentSize(h.capacity) != mappedSize) return "segment size does not match its ring capacity";
  capOut = h.capacity;
  return nullptr;
}

}  // namespace unipc_shm

// ---- slab segments (large payloads, see docs/protocol/shm.md "Slabs") ----
// One slab per link direction, made by the writer when it first sends a large payload and reused:
// a byte ring of `cap` bytes (a power of two) after a 4 KiB header page. The writer copies a
// payload in contiguously (skipping to the start when it would straddle the end) and names its
// position and length in a ring frame; the reader copies it out and stores the position after it
// as the slab's head, which frees everything before it. Positions are 64-bit and never wrap.
// When the reader has taken everything, the next payload starts again at offset 0: with one large
// message in flight at a time the same, cache-warm bytes are reused.

namespace unipc_shm {

constexpr uint64_t kSlabMagic = 0x314C534350494E55ull;  // "UNIPCSL1" read as little-endian bytes
constexpr size_t kSlabHeaderSize = 4096;
constexpr size_t kSlabHeadOffset = 64;
constexpr uint64_t kMinSlabCapacity = 1ull << 16;
constexpr uint64_t kMaxSlabCapacity = 1ull << 30;

inline bool ValidSlabCapacity(uint64_t cap) {
  return cap >= kMinSlabCapacity && cap <= kMaxSlabCapacity && (cap & (cap - 1)) == 0;
}

inline uint64_t SlabSegmentSize(uint64_t cap) { return kSlabHeaderSize + cap; }

inline std::atomic<uint64_t>* SlabHead(uint8_t* base) {
  return reinterpret_cast<std::atomic<uint64_t>*>(base + kSlabHeadOffset);
}

// Checks a mapped slab's header against its real size; returns nullptr when valid.
inline const char* ValidateSlabHeader(const uint8_t* base, uint64_t mappedSize, uint64_t& capOut) {
  if (mappedSize < kSlabHeaderSize) return "slab is smaller than its header";
  SegmentHeader h;
  std::memcpy(&h, base, sizeof h);
  if (h.magic != kSlabMagic) return "slab magic is not UNIPCSL1";
  if (h.version != kVersion) return "slab version is not supported";
  if (h.headerSize != kSlabHeaderSize) return "slab header size is wrong";
  if (!ValidSlabCapacity(h.capacity)) return "slab capacity is not a power of two between 64 KiB and 1 GiB";
  if (SlabSegmentSize(h.capacity) != mappedSize) return "slab size does not match its capacity";
  capOut = h.capacity;
  return nullptr;
}

enum class SlabResult { kOk, kNoRoom, kCorrupt };

// One piece of a payload the writer copies in (see SlabWriter::Write).
struct SlabPart {
  const uint8_t* data;
  uint64_t length;
};

// The writing end of a slab. Like RingWriter, it reads head only when its remembered one leaves
// too little room.
class SlabWriter {
 public:
  SlabWriter() = default;
  SlabWriter(uint8_t* base, uint64_t cap) : head_ptr_(SlabHead(base)), data_(base + kSlabHeaderSize), cap_(cap) {}

  // Copies `a` then `b` in; `pos` receives their position. kNoRoom: nothing written (the reader
  // has not taken enough yet, or the payload is larger than the slab).
  SlabResult Write(const uint8_t* a, uint64_t alen, const uint8_t* b, uint64_t blen, uint64_t& pos) {
    const SlabPart parts[2] = {{a, alen}, {b, blen}};
    return Write(parts, 2, pos);
  }

  // Copies `n` parts in, one after the other (a message handed over in pieces: frame start, the
  // application's body, frame end, each copied once, straight from where it is).
  SlabResult Write(const SlabPart* parts, size_t n, uint64_t& pos) {
    uint64_t len = 0;
    for (size_t i = 0; i < n; i++) {
      if (parts[i].length > cap_ - len) return SlabResult::kNoRoom;
      len += parts[i].length;
    }
    if (len == 0) return SlabResult::kNoRoom;
    if (free_ != tail_) {
      const uint64_t head = head_ptr_->load(std::memory_order_acquire);
      if (head > tail_ || head < loaded_) return SlabResult::kCorrupt;
      loaded_ = head;
      if (head > free_) free_ = head;
    }
    const uint64_t off = tail_ & (cap_ - 1);
    const bool empty = free_ == tail_;
    // Empty: back to offset 0. Otherwise contiguous after the last payload, or at 0 past the end.
    const uint64_t start = (empty && off != 0) || off + len > cap_ ? tail_ + (cap_ - off) : tail_;
    const uint64_t end = start + len;
    // Nothing is unread before `start` when empty (the reader's head passes the gap with this one).
    if (empty) free_ = start;
    if (end - free_ > cap_) return SlabResult::kNoRoom;
    uint8_t* at = data_ + (start & (cap_ - 1));
    for (size_t i = 0; i < n; i++) {
      if (parts[i].length) std::memcpy(at, parts[i].data, parts[i].length);
      at += parts[i].length;
    }
    tail_ = end;
    pos = start;
    return SlabResult::kOk;
  }

 private:
  std::atomic<uint64_t>* head_ptr_ = nullptr;
  uint8_t* data_ = nullptr;
  uint64_t cap_ = 0;
  uint64_t tail_ = 0;
  uint64_t loaded_ = 0;  // the last head read from shared memory (it never decreases)
  uint64_t free_ = 0;    // every byte before this position is free
};

// The reading end: checks every position and length the writer sent (never trusted) before
// copying, then releases the space.
class SlabReader {
 public:
  SlabReader() = default;
  SlabReader(uint8_t* base, uint64_t cap) : head_ptr_(SlabHead(base)), data_(base + kSlabHeaderSize), cap_(cap) {}

  // Checks that [pos, pos+len) is a range the writer could have filled; nullptr when it is.
  const char* Check(uint64_t pos, uint64_t len) const {
    if (len == 0 || len > cap_) return "slab payload length is out of bounds";
    if (pos < head_ || pos > UINT64_MAX - len) return "slab position is behind the released head";
    // The writer skips at most one gap to offset 0 and holds less than a slab after it.
    if (pos - head_ > 2 * cap_) return "slab position is past what the writer can have written";
    if ((pos & (cap_ - 1)) + len > cap_) return "slab payload runs past the end of the slab";
    return nullptr;
  }

  // Copies a checked range out and frees the slab up to its end (the writer may reuse it now).
  void Take(uint64_t pos, uint64_t len, uint8_t* out) {
    std::memcpy(out, data_ + (pos & (cap_ - 1)), len);
    head_ = pos + len;
    head_ptr_->store(head_, std::memory_order_release);
  }

 private:
  std::atomic<uint64_t>* head_ptr_ = nullptr;
  uint8_t* data_ = nullptr;
  uint64_t cap_ = 0;
  uint64_t head_ = 0;
};

}  // namespace unipc_shm
