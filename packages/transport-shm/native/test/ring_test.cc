// Tests of native/ring.h, built with AddressSanitizer and UBSan by test/unit/native-sanitizers.test.ts:
// a two-thread stress run (order, content, wake-ups, full ring, wrap) and corrupted rings (bad
// lengths, bad positions, bad pad frames) that must be reported, never read out of bounds.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "../ring.h"

using namespace unipc_shm;

static int failures = 0;
#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                      \
    }                                                                  \
  } while (0)

struct TestRing {
  explicit TestRing(uint64_t cap) : cap(cap) {
    // Exactly the bytes of one ring: ASan flags any read past them.
    mem.reset(static_cast<uint8_t*>(std::aligned_alloc(64, kRingControlSize + cap)));
    std::memset(mem.get(), 0, kRingControlSize + cap);
  }
  RingView view() { return RingView{reinterpret_cast<RingControl*>(mem.get()), mem.get() + kRingControlSize, cap}; }
  uint64_t cap;
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> mem;
};

static void StressTwoThreads() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  RingReader r(ring.view());
  const uint32_t kFrames = 200000;
  std::atomic<uint32_t> readerBell{0}, writerBell{0};
  std::thread writer([&] {
    uint8_t buf[1024];
    for (uint32_t i = 0; i < kFrames;) {
      const uint32_t len = 4 + (i * 7919u) % 900;
      std::memcpy(buf, &i, 4);
      for (uint32_t k = 4; k < len; k++) buf[k] = static_cast<uint8_t>(i + k);
      WriteResult res = w.Write(1, buf, 4, buf + 4, len - 4);
      if (res == WriteResult::kFull) {
        // Sleep until the reader rings (here: spin on a counter standing for the FIFO).
        uint32_t seen = writerBell.load();
        res = w.Write(1, buf, 4, buf + 4, len - 4);
        if (res == WriteResult::kFull) {
          while (writerBell.load() == seen) std::this_thread::yield();
          continue;
        }
      }
      CHECK(res == WriteResult::kWritten || res == WriteResult::kWrittenWake);
      if (res == WriteResult::kWrittenWake) readerBell.fetch_add(1);
      i++;
    }
  });
  std::vector<FrameRef> frames;
  uint32_t expect = 0;
  while (expect < kFrames) {
    uint64_t next = 0;
    const char* err = nullptr;
    CHECK(r.Scan(1 << 20, frames, next, err) == ReadResult::kOk);
    for (const FrameRef& f : frames) {
      uint32_t seq = 0;
      std::memcpy(&seq, r.data() + f.offset, 4);
      CHECK(seq == expect);
      CHECK(f.length == 4 + (seq * 7919u) % 900);
      CHECK(f.type == 1);
      for (uint32_t k = 4; k < f.length; k++) {
        if (r.data()[f.offset + k] != static_cast<uint8_t>(seq + k)) {
          CHECK(false);
          break;
        }
      }
      expect++;
    }
    if (!frames.empty()) {
      if (r.Commit(next)) writerBell.fetch_add(1);
      continue;
    }
    uint32_t seen = readerBell.load();
    if (r.Arm()) {
      while (readerBell.load() == seen) std::this_thread::yield();
    }
  }
  writer.join();
  CHECK(expect == kFrames);
}

static void WriteOne(RingWriter& w, uint32_t len) {
  std::vector<uint8_t> b(len, 0xab);
  CHECK(w.Write(7, b.data(), len, nullptr, 0) == WriteResult::kWritten);
}

static ReadResult ScanOnce(RingReader& r, const char** err) {
  std::vector<FrameRef> frames;
  uint64_t next = 0;
  *err = nullptr;
  return r.Scan(1 << 20, frames, next, *err);
}

static void CorruptLength() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  RingReader r(ring.view());
  WriteOne(w, 100);
  // The peer rewrites the length to something past the ring.
  uint32_t huge = 0x7fffffff;
  std::memcpy(ring.view().data, &huge, 4);
  const char* err;
  CHECK(ScanOnce(r, &err) == ReadResult::kCorrupt);
  CHECK(err != nullptr);
  // A length that fits the ring but not the committed bytes.
  uint32_t longer = 200;
  std::memcpy(ring.view().data, &longer, 4);
  CHECK(ScanOnce(r, &err) == ReadResult::kCorrupt);
}

static void CorruptTail() {
  TestRing ring(4096);
  RingReader r(ring.view());
  const char* err;
  ring.view().ctl->tail.store(1ull << 40);
  CHECK(ScanOnce(r, &err) == ReadResult::kCorrupt);
  ring.view().ctl->tail.store(12);  // not 8-aligned
  CHECK(ScanOnce(r, &err) == ReadResult::kCorrupt);
}

static void CorruptPad() {
  TestRing ring(4096);
  RingView v = ring.view();
  RingReader r(v);
  // A pad frame at offset 0 that claims less than the rest of the ring.
  uint64_t word = 100 | (uint64_t{kPadType} << 32);
  std::memcpy(v.data, &word, 8);
  v.ctl->tail.store(4096);
  const char* err;
  CHECK(ScanOnce(r, &err) == ReadResult::kCorrupt);
}

static void CorruptHeadSeenByWriter() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  ring.view().ctl->head.store(1ull << 50);
  uint8_t b[8] = {0};
  // The writer reads head when its remembered one leaves too little room: then it must notice.
  WriteResult res = WriteResult::kWritten;
  for (int i = 0; i < 1000 && res == WriteResult::kWritten; i++) res = w.Write(1, b, 8, nullptr, 0);
  CHECK(res == WriteResult::kCorrupt);
}

static void WrapWithPad() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  RingReader r(ring.view());
  std::vector<FrameRef> frames;
  for (int round = 0; round < 50; round++) {
    WriteOne(w, 1000);  // 1008 bytes per frame: forces pads at the end
    uint64_t next;
    const char* err = nullptr;
    CHECK(r.Scan(1 << 20, frames, next, err) == ReadResult::kOk);
    CHECK(frames.size() == 1);
    if (!frames.empty()) CHECK(frames[0].length == 1000);
    r.Commit(next);
  }
}

static void TooBig() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  std::vector<uint8_t> b(2000);
  CHECK(w.Write(1, b.data(), b.size(), nullptr, 0) == WriteResult::kTooBig);
}

static void HeaderValidation() {
  std::vector<uint8_t> seg(LinkSegmentSize(4096), 0);
  uint64_t cap = 0;
  CHECK(ValidateHeader(seg.data(), seg.size(), cap) != nullptr);  // no magic
  SegmentHeader h{kMagic, kVersion, static_cast<uint32_t>(kHeaderSize), 4096, 1, 0};
  std::memcpy(seg.data(), &h, sizeof h);
  CHECK(ValidateHeader(seg.data(), seg.size(), cap) == nullptr);
  CHECK(cap == 4096);
  h.capacity = 1ull << 40;  // claims more than is mapped
  std::memcpy(seg.data(), &h, sizeof h);
  CHECK(ValidateHeader(seg.data(), seg.size(), cap) != nullptr);
  CHECK(ValidateHeader(seg.data(), 10, cap) != nullptr);
}

// A slab: payloads reuse offset 0 when the reader took everything; hostile descriptors (behind
// the head, past the end, too long, straddling the end) are refused before any byte is touched.
static void SlabBounds() {
  const uint64_t cap = kMinSlabCapacity;
  std::vector<uint8_t> mem(SlabSegmentSize(cap), 0);
  SlabWriter w(mem.data(), cap);
  SlabReader r(mem.data(), cap);
  std::vector<uint8_t> payload(1000, 0x5a), out(cap, 0);
  uint64_t pos = 0;
  for (int i = 0; i < 200; i++) {
    CHECK(w.Write(payload.data(), 10, payload.data() + 10, 990, pos) == SlabResult::kOk);
    CHECK((pos & (cap - 1)) == 0);
    CHECK(r.Check(pos, 1000) == nullptr);
    r.Take(pos, 1000, out.data());
    CHECK(out[999] == 0x5a);
  }
  // Two in flight: the second follows the first; a third that does not fit waits.
  uint64_t p1 = 0, p2 = 0, p3 = 0;
  CHECK(w.Write(payload.data(), 1000, nullptr, 0, p1) == SlabResult::kOk);
  std::vector<uint8_t> big(cap - 1500, 1);
  CHECK(w.Write(big.data(), big.size(), nullptr, 0, p2) == SlabResult::kOk);
  CHECK(p2 == p1 + 1000);
  CHECK(w.Write(payload.data(), 1000, nullptr, 0, p3) == SlabResult::kNoRoom);
  CHECK(r.Check(p1 - 8, 1000) != nullptr);         // behind the head
  CHECK(r.Check(p1, cap + 1) != nullptr);          // longer than the slab
  CHECK(r.Check(p1 + cap - 10, 100) != nullptr);   // straddles the end
  CHECK(r.Check(p1 + 4 * cap, 100) != nullptr);    // far past what can have been written
  CHECK(r.Check(UINT64_MAX - 10, 100) != nullptr); // wraps around 2^64
  CHECK(r.Check(p1, 0) != nullptr);
  CHECK(r.Check(p1, 1000) == nullptr);
  r.Take(p1, 1000, out.data());
  r.Take(p2, big.size(), out.data());
  // A head moved backwards or past the tail is corruption.
  SlabHead(mem.data())->store(1);
  CHECK(w.Write(payload.data(), 1000, nullptr, 0, p3) == SlabResult::kCorrupt);
  uint64_t capOut = 0;
  CHECK(ValidateSlabHeader(mem.data(), mem.size(), capOut) != nullptr);  // no magic written
  CHECK(ValidateSlabHeader(mem.data(), 100, capOut) != nullptr);
}

// A payload in parts (frame start, body, frame end) lands contiguous and in order; parts that
// together exceed the slab (even if each fits) are refused without writing.
static void SlabParts() {
  const uint64_t cap = kMinSlabCapacity;
  std::vector<uint8_t> mem(SlabSegmentSize(cap), 0);
  SlabWriter w(mem.data(), cap);
  SlabReader r(mem.data(), cap);
  std::vector<uint8_t> start(7, 1), body(40000, 2), end(3, 3), out(cap, 0);
  const SlabPart parts[4] = {{start.data(), start.size()}, {body.data(), body.size()}, {nullptr, 0}, {end.data(), end.size()}};
  uint64_t pos = 0;
  CHECK(w.Write(parts, 4, pos) == SlabResult::kOk);
  const uint64_t len = start.size() + body.size() + end.size();
  CHECK(r.Check(pos, len) == nullptr);
  r.Take(pos, len, out.data());
  CHECK(out[0] == 1 && out[6] == 1 && out[7] == 2 && out[40006] == 2 && out[40007] == 3 && out[40009] == 3);
  std::vector<uint8_t> half(cap / 2 + 8, 4);
  const SlabPart tooMuch[2] = {{half.data(), half.size()}, {half.data(), half.size()}};
  CHECK(w.Write(tooMuch, 2, pos) == SlabResult::kNoRoom);
  const SlabPart none[1] = {{nullptr, 0}};
  CHECK(w.Write(none, 1, pos) == SlabResult::kNoRoom);
}

// The busy-poll's view of a ring (Spinner in addon.cc): Pending() sees published frames without
// side effects, and EnsureArmed() arms an empty ring once and refuses to arm one holding data.
static void PendingAndEnsureArmed() {
  TestRing ring(4096);
  RingWriter w(ring.view());
  RingReader r(ring.view());
  uint8_t b[16] = {1};
  std::vector<FrameRef> frames;
  uint64_t next = 0;
  const char* err = nullptr;
  CHECK(!r.Pending());
  CHECK(r.EnsureArmed());
  CHECK(r.EnsureArmed());  // armed already: nothing stored, still safe to sleep
  CHECK(w.Write(1, b, sizeof b, nullptr, 0) == WriteResult::kWrittenWake);  // the writer takes the flag
  CHECK(r.Pending());
  CHECK(!r.EnsureArmed());  // data is there: drain instead of sleeping
  CHECK(r.Scan(1 << 20, frames, next, err) == ReadResult::kOk && frames.size() == 1);
  r.Commit(next);
  CHECK(!r.Pending());
  CHECK(r.EnsureArmed());
  // A quiet frame leaves the flag set: still armed, but not empty, so not safe to sleep.
  CHECK(w.Write(1, b, sizeof b, nullptr, 0, true) == WriteResult::kWritten);
  CHECK(r.Pending());
  CHECK(!r.EnsureArmed());
  CHECK(r.Scan(1 << 20, frames, next, err) == ReadResult::kOk && frames.size() == 1);
  r.Commit(next);
  CHECK(r.EnsureArmed());
}

int main() {
  PendingAndEnsureArmed();
  CorruptLength();
  CorruptTail();
  CorruptPad();
  CorruptHeadSeenByWriter();
  WrapWithPad();
  TooBig();
  HeaderValidation();
  SlabBounds();
  SlabParts();
  StressTwoThreads();
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("ring tests passed\n");
  return 0;
}
