// Node-API surface of the shm transport (declared for TypeScript in src/native.ts):
// - Link: a mapped link segment with one outgoing and one incoming ring;
// - Bell: this process's doorbell, a FIFO watched by libuv (uv_poll), never a waiting thread;
// - peer bells, blob segments for large payloads, segment unlink.
// Nothing here blocks: every fd is non-blocking and every call returns at once.
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <napi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ring.h"

namespace unipc_shm {
namespace {

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, err == EEXIST ? "EEXIST" : err == ENOENT ? "ENOENT" : "ERR_UNIPC_SHM_SYS"));
  return e;
}

Napi::Error CodedError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

// Segment names are "/unipc-..." with a safe alphabet: never a path, never a surprise.
bool ValidShmName(const std::string& name) {
  if (name.size() < 2 || name.size() > 200 || name[0] != '/') return false;
  for (size_t i = 1; i < name.size(); i++) {
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

// The owner must be us and nobody else may have any access: a segment made by another user (or
// opened up by chmod) is refused.
const char* CheckOwnership(int fd, struct stat& st) {
  if (fstat(fd, &st) != 0) return "fstat failed";
  if (st.st_uid != geteuid()) return "owned by another user";
  if ((st.st_mode & 0077) != 0) return "readable or writable by other users (mode is not 0600)";
  return nullptr;
}

void RingFd(int fd) {
  if (fd < 0) return;
  const char byte = 1;
  // EAGAIN: the FIFO is full, so the peer has wake-ups pending anyway. EPIPE: the peer is gone,
  // which the rendezvous socket reports separately (Node ignores SIGPIPE).
  ssize_t r;
  do {
    r = write(fd, &byte, 1);
  } while (r < 0 && errno == EINTR);
}

uint64_t ToU64(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be a non-negative integer");
  return static_cast<uint64_t>(d);
}

std::string ToName(const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "segment name must be a string");
  std::string name = v.As<Napi::String>().Utf8Value();
  if (!ValidShmName(name)) throw CodedError(v.Env(), "invalid segment name '" + name + "'", "ERR_INVALID_ARG_VALUE");
  return name;
}

struct Bytes {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

Bytes ToBytes(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "payload must be a Uint8Array");
  auto ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) throw Napi::TypeError::New(v.Env(), "payload must be a Uint8Array");
  auto u8 = v.As<Napi::Uint8Array>();
  return Bytes{u8.Data(), u8.ByteLength()};
}

// Appends `v` to `out`: nothing (undefined/null), a Uint8Array, or an array of Uint8Arrays (a
// message handed over in parts, copied straight from each).
void AppendParts(const Napi::Value& v, std::vector<SlabPart>& out) {
  if (v.IsArray()) {
    auto list = v.As<Napi::Array>();
    const uint32_t n = list.Length();
    for (uint32_t i = 0; i < n; i++) {
      const Bytes b = ToBytes(list.Get(i));
      out.push_back(SlabPart{b.data, b.length});
    }
    return;
  }
  const Bytes b = ToBytes(v);
  out.push_back(SlabPart{b.data, b.length});
}

// ---------------------------------------------------------------------------------------------
// Spinner: the bounded busy-poll of one Bell (Bell.spin). Rather than arming its rings and letting
// the event loop sleep right after a batch, the JS thread keeps polling the rings for a window
// (at most the budget, adapted by Adapt) after the last activity (a read or a write on one of its
// links), in a uv_prepare callback -- the last thing the loop runs before it would block. A message that arrives in that
// window is delivered at once: no doorbell write by its writer (the ring is not armed), no wake-up
// here. Once the budget is spent every ring is armed and the loop sleeps as before, so an idle
// process burns nothing. The rings themselves are unchanged: the armed flag already says "ring me".
// The loop never spins while it has other work (due timers, immediates, pending callbacks, ready
// file descriptors): those would be delayed, and the loop does not block then anyway.
// Owned by its Bell; freed by the close callbacks of its two handles, so it outlives a JS callback
// that closes the Bell.

class Link;
class Bell;

struct Spinner {
  uv_prepare_t prepare;       // runs the spin right before the loop would block
  uv_idle_t kick;             // started to make the loop poll without blocking and come back
  std::vector<Link*> links;   // rings to poll (a Link removes itself when it unmaps)
  std::vector<Link*> ringing;  // links whose peer's doorbell rings before the loop polls
  Bell* bell = nullptr;       // null once the Bell closed
  uint64_t budgetNs = 0;      // the most a window may be (Bell.spin)
  uint64_t windowNs = 0;      // the current window, adapted by Adapt()
  uint64_t lastActivity = 0;  // uv_hrtime() of the last look that found `active` set
  uint64_t sleptAt = 0;       // lastActivity when the loop last went to sleep after polling, or 0
  uint64_t reads = 0;         // batches read by the links: did a delivery make progress?
  bool active = false;        // a link read or wrote since the last look
  // Diagnostics (Bell.spinStats): ns spent polling, deliveries made from the poll, sleeps after it.
  uint64_t spunNs = 0;
  uint64_t hits = 0;
  uint64_t sleeps = 0;
  int openHandles = 2;

  void Remove(Link* link) {
    links.erase(std::remove(links.begin(), links.end(), link), links.end());
    ringing.erase(std::remove(ringing.begin(), ringing.end(), link), ringing.end());
  }
  void RingAll();

  // The doorbell woke us after we slept: `waitedNs` passed between the last activity and this
  // wake-up. Like KVM's halt polling: a message the window would have caught had it been a bit
  // longer (within the budget) grows the window; a wait longer than the whole budget, which
  // polling could not have shortened, halves it. So a peer that answers within the budget is
  // polled for, and a slow one (a 1 MiB reply, a request a second) is not, at no CPU cost.
  // `waitedNs` includes the wake-up itself, which on an idle VM (halted vCPUs) takes ~50 µs: a
  // peer answering in 10 µs then looks slower than the budget, and the window, once shrunk, never
  // grew back (round trips stuck at ~100 µs). So the wake-up gets an allowance (100 µs: with 200,
  // a 1 MiB round trip kept both sides polling ~60 µs each for nothing).
  void Adapt(uint64_t waitedNs) {
    constexpr uint64_t kGrowFromNs = 8000;
    constexpr uint64_t kMinNs = 2000;
    constexpr uint64_t kWakeAllowanceNs = 100000;
    if (waitedNs <= windowNs) return;
    if (waitedNs > budgetNs + kWakeAllowanceNs) {
      windowNs = windowNs / 2 < kMinNs ? 0 : windowNs / 2;
    } else {
      windowNs = std::min(budgetNs, std::max(windowNs * 2, kGrowFromNs));
    }
  }
  bool AnyPending() const;
  bool ArmAll();
};

// ---------------------------------------------------------------------------------------------
// Fast calls. A Link method pays for unwrapping `this` (napi_unwrap) and a typed-array argument
// for its checks: measured ~300 ns per read or write call against ~50 for a plain function of
// numbers. So the calls made per batch (linkRead, linkWrite, linkPending) are plain functions
// taking the link's id, and the buffers they use are registered once (Link.setReadBuffer,
// Link.setStage) and held by a reference until replaced or the link unmaps.
// Ids are `generation << 16 | slot` in a per-thread table (each JS thread its own links): a stale
// id (of a closed link whose slot was reused) does not match the slot's generation.

class Link;

struct LinkTable {
  std::vector<Link*> slots;
  std::vector<uint32_t> generations;
  std::vector<uint32_t> spare;
};
// Never freed: a Link unmapped while its environment is torn down still finds it.
thread_local LinkTable* tLinkTable = nullptr;
LinkTable& Links() {
  if (!tLinkTable) tLinkTable = new LinkTable();
  return *tLinkTable;
}
constexpr uint32_t kMaxLinkSlots = 1u << 16;

// A new id for `link`, or 0 when this thread has kMaxLinkSlots links open.
uint32_t RegisterLink(Link* link) {
  LinkTable& t = Links();
  uint32_t slot;
  if (!t.spare.empty()) {
    slot = t.spare.back();
    t.spare.pop_back();
  } else {
    if (t.slots.size() >= kMaxLinkSlots) return 0;
    slot = static_cast<uint32_t>(t.slots.size());
    t.slots.push_back(nullptr);
    t.generations.push_back(1);
  }
  t.slots[slot] = link;
  return (t.generations[slot] << 16) | slot;
}

void UnregisterLink(uint32_t id) {
  LinkTable& t = Links();
  const uint32_t slot = id & (kMaxLinkSlots - 1);
  if (id == 0 || slot >= t.slots.size() || (id >> 16) != t.generations[slot]) return;
  t.slots[slot] = nullptr;
  // 1 .. 32767: ids stay positive int32 values.
  t.generations[slot] = t.generations[slot] % 32767 + 1;
  t.spare.push_back(slot);
}

// The open link of `id`, or null.
Link* FindLink(uint32_t id) {
  LinkTable& t = Links();
  const uint32_t slot = id & (kMaxLinkSlots - 1);
  if (slot >= t.slots.size() || (id >> 16) != t.generations[slot]) return nullptr;
  return t.slots[slot];
}

// ---------------------------------------------------------------------------------------------
// Link: one mapped link segment. The creator writes ring 0 and reads ring 1; the acceptor the
// reverse, so each direction has exactly one producer and one consumer.

class Link : public Napi::ObjectWrap<Link> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Link",
                       {
                           StaticMethod<&Link::Create>("create"),
                           StaticMethod<&Link::Open>("open"),
                           InstanceMethod<&Link::Write>("write"),
                           InstanceMethod<&Link::WriteBatch>("writeBatch"),
                           InstanceMethod<&Link::Read>("read"),
                           InstanceMethod<&Link::Arm>("arm"),
                           InstanceMethod<&Link::SetPeerBell>("setPeerBell"),
                           InstanceMethod<&Link::Close>("close"),
                           InstanceMethod<&Link::Stats>("stats"),
                           InstanceMethod<&Link::SetReadBuffer>("setReadBuffer"),
                           InstanceMethod<&Link::SetStage>("setStage"),
                           InstanceAccessor<&Link::Capacity>("capacity"),
                           InstanceAccessor<&Link::Id>("id"),
                       });
  }

  explicit Link(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Link>(info) {}
  ~Link() override { Unmap(); }

  static Napi::Object NewInstance(Napi::Env env) {
    return env.GetInstanceData<Napi::FunctionReference>()->New({});
  }

  // The Link wrapped by `v`, or null when `v` is not one.
  static Link* From(const Napi::Value& v) {
    if (!v.IsObject()) return nullptr;
    Napi::Object o = v.As<Napi::Object>();
    if (!o.InstanceOf(v.Env().GetInstanceData<Napi::FunctionReference>()->Value())) return nullptr;
    return Unwrap(o);
  }

  // For the Spinner: is data waiting in the incoming ring? (false once unmapped)
  bool SpinPending() const { return base_ != nullptr && reader_.Pending(); }
  // For the Spinner: arm the incoming ring before the loop sleeps; false when data is there.
  bool SpinArm() { return base_ == nullptr || reader_.EnsureArmed(); }
  // Polled (and marked active) by `spinner`, or by none.
  void SetSpinner(Spinner* spinner) {
    if (spinner_ == spinner) return;
    if (spinner_) spinner_->Remove(this);
    spinner_ = spinner;
    if (spinner && base_) spinner->links.push_back(this);
  }
  // The Spinner is going away (its Bell closed): ring what waits, forget it without touching it.
  void DropSpinner() {
    spinner_ = nullptr;
    RingDeferred();
  }

 private:
  // create(name, capacity): a new segment, O_CREAT|O_EXCL, mode 0600, owner checked.
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string name = ToName(info[0]);
    const uint64_t cap = ToU64(info[1], "capacity");
    if (!ValidCapacity(cap)) throw CodedError(env, "ring capacity must be a power of two between 4 KiB and 1 GiB", "ERR_INVALID_ARG_VALUE");
    const uint64_t size = LinkSegmentSize(cap);
    int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw ErrnoError(env, "shm_open(" + name + ")", errno);
    struct stat st;
    if (fchmod(fd, 0600) != 0 || CheckOwnership(fd, st) != nullptr || ftruncate(fd, static_cast<off_t>(size)) != 0) {
      const int err = errno;
      close(fd);
      shm_unlink(name.c_str());
      throw ErrnoError(env, "cannot prepare segment " + name, err ? err : EPERM);
    }
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    close(fd);
    if (base == MAP_FAILED) {
      shm_unlink(name.c_str());
      throw ErrnoError(env, "mmap(" + name + ")", err);
    }
    SegmentHeader h{kMagic, kVersion, static_cast<uint32_t>(kHeaderSize), cap, static_cast<uint32_t>(getpid()), 0};
    std::memcpy(base, &h, sizeof h);
    Napi::Object obj = NewInstance(env);
    Link* link = Unwrap(obj);
    if (!link->Attach(static_cast<uint8_t*>(base), size, cap, 0)) {
      munmap(base, size);
      shm_unlink(name.c_str());
      throw CodedError(env, "too many shm links open in this thread", "ERR_UNIPC_SHM_SYS");
    }
    return obj;
  }

  // open(name, maxCapacity): maps a peer's segment after checking owner, mode and header.
  static Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string name = ToName(info[0]);
    const uint64_t maxCap = ToU64(info[1], "maxCapacity");
    int fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) throw ErrnoError(env, "shm_open(" + name + ")", errno);
    struct stat st;
    if (const char* why = CheckOwnership(fd, st)) {
      close(fd);
      throw CodedError(env, "segment " + name + " is refused: " + why, "ERR_UNIPC_SHM_PERMISSION");
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size < kHeaderSize || size > LinkSegmentSize(maxCap)) {
      close(fd);
      throw CodedError(env, "segment " + name + " has an unexpected size", "ERR_UNIPC_SHM_CORRUPT");
    }
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    close(fd);
    if (base == MAP_FAILED) throw ErrnoError(env, "mmap(" + name + ")", err);
    uint64_t cap = 0;
    if (const char* why = ValidateHeader(static_cast<uint8_t*>(base), size, cap)) {
      munmap(base, size);
      throw CodedError(env, "segment " + name + ": " + why, "ERR_UNIPC_SHM_CORRUPT");
    }
    Napi::Object obj = NewInstance(env);
    if (!Unwrap(obj)->Attach(static_cast<uint8_t*>(base), size, cap, 1)) {
      munmap(base, size);
      throw CodedError(env, "too many shm links open in this thread", "ERR_UNIPC_SHM_SYS");
    }
    return obj;
  }

  // false when no id is left (nothing attached: the caller unmaps).
  bool Attach(uint8_t* base, uint64_t size, uint64_t cap, int role) {
    id_ = RegisterLink(this);
    if (id_ == 0) return false;
    base_ = base;
    size_ = size;
    cap_ = cap;
    role_ = role;
    writer_ = RingWriter(RingAt(base, cap, role));
    reader_ = RingReader(RingAt(base, cap, 1 - role));
    return true;
  }

  void Unmap() {
    RingDeferred();
    if (spinner_) spinner_->Remove(this);
    spinner_ = nullptr;
    if (base_) munmap(base_, size_);
    base_ = nullptr;
    UnregisterLink(id_);
    id_ = 0;
    readBuf_.Reset();
    readData_ = nullptr;
    readLen_ = 0;
    stage_.Reset();
    stageData_ = nullptr;
    stageLen_ = 0;
  }

  void AssertOpen(Napi::Env env) const {
    if (!base_) throw CodedError(env, "link is closed", "ERR_UNIPC_SHM_CLOSED");
  }

  // Rings the peer's doorbell: at once, or -- when this process spins -- right before its event
  // loop next polls (Spinner::RingDeferred). A doorbell write wakes the peer, and the kernel often
  // runs the woken process at once on the writer's CPU: rung in the middle of a job, the rest of
  // the job waited for the peer's whole turn (tens to hundreds of µs on a loaded 2-core machine).
  // Deferred, the peer runs while this process has nothing left to do.
  void Wake() {
    if (!spinner_) {
      RingFd(peerBell_);
    } else if (!ringDeferred_) {
      ringDeferred_ = true;
      spinner_->ringing.push_back(this);
    }
  }

 public:
  // Rings a deferred doorbell now (Spinner, and before the peer's bell or the mapping goes).
  void RingDeferred() {
    if (!ringDeferred_) return;
    ringDeferred_ = false;
    RingFd(peerBell_);
  }

 private:
  // A read or write happened: the spinner keeps polling for its budget from now on.
  void Active() {
    if (spinner_) spinner_->active = true;
  }

  Napi::Value Capacity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(cap_)); }

  // setPeerBell(fd): the FIFO to ring when the peer sleeps (-1 for none). The fd stays owned by JS.
  void SetPeerBell(const Napi::CallbackInfo& info) {
    const Napi::Value v = info[0];
    if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), "fd must be a number");
    RingDeferred();
    peerBell_ = v.As<Napi::Number>().Int32Value();
  }

  // write(type, head, body?, quiet?) -> true when written, false when full (the peer will ring us).
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    const uint64_t type = ToU64(info[0], "type");
    if (type >= kPadType) throw Napi::RangeError::New(env, "frame type out of range");
    const Bytes a = ToBytes(info[1]);
    const Bytes b = ToBytes(info[2]);
    const bool quiet = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    switch (writer_.Write(static_cast<uint32_t>(type), a.data, a.length, b.data, b.length, quiet)) {
      case WriteResult::kWrittenWake:
        Active();
        Wake();
        return Napi::Boolean::New(env, true);
      case WriteResult::kWritten:
        Active();
        return Napi::Boolean::New(env, true);
      case WriteResult::kFull:
        // The reader must drain for us to go on: wake it even if what fills the ring was quiet.
        if (writer_.TakeArmed()) Wake();
        return Napi::Boolean::New(env, false);
      case WriteResult::kTooBig:
        throw CodedError(env, "frame is larger than a quarter of the ring; send it as a blob", "ERR_UNIPC_SHM_TOO_BIG");
      case WriteResult::kCorrupt:
      default:
        throw CodedError(env, "peer corrupted the ring's head position", "ERR_UNIPC_SHM_CORRUPT");
    }
  }

  // writeBatch(records, length, wake) -> bytes consumed. `records` holds frames as
  // [u32 length][u32 type][payload] (unpadded, as read() returns them); as many whole frames as fit
  // are written, then the peer's bell rings once if it sleeps (and `wake`). Fewer bytes than
  // `length` means the ring filled up: the peer rings us once it has drained.
  Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    const Bytes buf = ToBytes(info[0]);
    const uint64_t n = ToU64(info[1], "length");
    if (n > buf.length) throw Napi::RangeError::New(env, "length is past the end of the records");
    const bool wake = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    return Napi::Number::New(env, static_cast<double>(WriteRecords(env, buf.data, n, wake)));
  }

 public:
  // The body of writeBatch (and of linkWrite, from the registered stage): the first `n` bytes of
  // `data` as records; returns the bytes written.
  uint64_t WriteRecords(Napi::Env env, const uint8_t* data, uint64_t n, bool wake) {
    const Bytes buf{data, n};
    uint64_t at = 0;
    bool full = false;
    while (at < n) {
      if (n - at < 8) throw CodedError(env, "malformed write batch record", "ERR_INVALID_ARG_VALUE");
      uint32_t len = 0;
      uint32_t type = 0;
      std::memcpy(&len, buf.data + at, 4);
      std::memcpy(&type, buf.data + at + 4, 4);
      if (type >= kPadType || len > n - at - 8) {
        writer_.Publish();
        throw CodedError(env, "malformed write batch record", "ERR_INVALID_ARG_VALUE");
      }
      // Unpublished: the whole batch becomes visible with one store of tail below.
      const WriteResult r = writer_.Write(type, buf.data + at + 8, len, nullptr, 0, true, false);
      if (r == WriteResult::kFull) {
        full = true;
        break;
      }
      if (r == WriteResult::kTooBig) {
        writer_.Publish();
        throw CodedError(env, "frame is larger than a quarter of the ring; send it as a blob", "ERR_UNIPC_SHM_TOO_BIG");
      }
      if (r == WriteResult::kCorrupt) throw CodedError(env, "peer corrupted the ring's head position", "ERR_UNIPC_SHM_CORRUPT");
      at += 8 + len;
    }
    writer_.Publish();
    if (at > 0) Active();
    // A full ring wakes the reader even for quiet frames: it must drain for us to go on.
    if ((full || (at > 0 && wake)) && writer_.TakeArmed()) Wake();
    return at;
  }

  // The into-path of read() (and linkRead, into the registered read buffer): records copied to
  // `into` (`room` bytes there, at offset `at` of its buffer); the end of what was copied, 0 when
  // the ring is empty (armed with `arm`), or minus the size of the first record when even that
  // does not fit (nothing taken).
  double ReadInto(Napi::Env env, uint64_t maxBytes, bool arm, uint8_t* into, uint64_t at, uint64_t room) {
    if (maxBytes > room) maxBytes = room;
    uint64_t next = 0;
    if (!ScanOrArm(env, maxBytes, arm, next)) return 0;
    size_t total = 0;
    for (const FrameRef& f : frames_) total += 8 + f.length;
    // Scan took at most maxBytes (<= room) unless its first frame alone is larger: not taken.
    if (total > room) return -static_cast<double>(total);
    CopyOut(into, next);
    return static_cast<double>(at + total);
  }

  // Whether the incoming ring holds unread bytes (a hint: linkPending).
  bool Pending() const { return base_ != nullptr && reader_.Pending(); }

  // The registered buffers (see setReadBuffer, setStage).
  uint8_t* readData_ = nullptr;
  uint64_t readLen_ = 0;
  uint8_t* stageData_ = nullptr;
  uint64_t stageLen_ = 0;

 private:
  // Scans the incoming ring into frames_ (arming it when empty, with `arm`); false when there is
  // nothing to read.
  bool ScanOrArm(Napi::Env env, uint64_t maxBytes, bool arm, uint64_t& next) {
    const char* error = nullptr;
    if (reader_.Scan(maxBytes, frames_, next, error) != ReadResult::kOk)
      throw CodedError(env, std::string("corrupt frame from peer: ") + error, "ERR_UNIPC_SHM_CORRUPT");
    if (frames_.empty()) {
      if (!arm || reader_.Arm()) return false;
      if (reader_.Scan(maxBytes, frames_, next, error) != ReadResult::kOk)
        throw CodedError(env, std::string("corrupt frame from peer: ") + error, "ERR_UNIPC_SHM_CORRUPT");
      // Tail moved but holds no frame (only a pad): an honest writer never publishes that. Not
      // armed, so the endpoint comes back for it.
      if (frames_.empty()) return false;
    }
    return true;
  }

  // Copies the scanned frames to `p` as records and frees their ring space up to `next`.
  void CopyOut(uint8_t* p, uint64_t next) {
    if (spinner_) {
      spinner_->active = true;
      spinner_->reads++;
    }
    const uint8_t* data = reader_.data();
    for (const FrameRef& f : frames_) {
      std::memcpy(p, &f.length, 4);
      std::memcpy(p + 4, &f.type, 4);
      std::memcpy(p + 8, data + f.offset, f.length);
      p += 8 + f.length;
    }
    if (reader_.Commit(next)) Wake();
  }

  // read(maxBytes, arm?) -> Buffer of [u32 length][u32 type][payload]... (unpadded), or undefined
  // when empty. Copies the frames out once, then releases their ring space. With `arm`, an empty
  // ring is armed in the same call (one N-API call fewer per link and wake-up); should data arrive
  // while arming, it is read instead and the ring stays unarmed.
  //
  // read(maxBytes, arm, into, offset) -> the same records copied into `into` (a Uint8Array) from
  // `offset` on, at most the room left there: returns the end of what was copied, 0 when the ring
  // is empty, or minus the size of the first record when even that does not fit (nothing taken).
  // No buffer is made per call: the caller hands out views of one larger buffer it owns.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    const uint64_t maxBytes = ToU64(info[0], "maxBytes");
    const bool arm = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw Napi::TypeError::New(env, "into must be a Uint8Array");
      auto u8 = info[2].As<Napi::Uint8Array>();
      const uint64_t at = ToU64(info[3], "offset");
      if (at >= u8.ByteLength()) throw Napi::RangeError::New(env, "offset is not inside `into`");
      return Napi::Number::New(env, ReadInto(env, maxBytes, arm, u8.Data() + at, at, u8.ByteLength() - at));
    }
    uint64_t next = 0;
    if (!ScanOrArm(env, maxBytes, arm, next)) return env.Undefined();
    size_t total = 0;
    for (const FrameRef& f : frames_) total += 8 + f.length;
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, total);
    CopyOut(buf.Data(), next);
    return buf;
  }

  // setReadBuffer(buf): the Uint8Array linkRead copies into (held until replaced or unmapped).
  void SetReadBuffer(const Napi::CallbackInfo& info) { Hold(info, readBuf_, readData_, readLen_); }

  // setStage(buf): the Uint8Array of records linkWrite writes from (held until replaced or unmapped).
  void SetStage(const Napi::CallbackInfo& info) { Hold(info, stage_, stageData_, stageLen_); }

  // Keeps the Uint8Array info[0] alive in `ref` (its memory stays where it is) and notes where it is.
  void Hold(const Napi::CallbackInfo& info, Napi::ObjectReference& ref, uint8_t*& data, uint64_t& length) {
    AssertOpen(info.Env());
    const Bytes b = ToBytes(info[0]);
    if (!b.data && b.length == 0 && !info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "buffer must be a Uint8Array");
    ref = Napi::Persistent(info[0].As<Napi::Object>());
    data = const_cast<uint8_t*>(b.data);
    length = b.length;
  }

  Napi::Value Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

  // arm() -> true when the ring is empty and the peer will ring before writing more.
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    AssertOpen(info.Env());
    return Napi::Boolean::New(info.Env(), reader_.Arm());
  }

  void Close(const Napi::CallbackInfo&) { Unmap(); }

  // stats() -> [outHead, outTail, outArmed, outWaiting, inHead, inTail, inArmed, inWaiting], as read
  // from shared memory (diagnostics only: nothing is trusted or used from these values).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    Napi::Array out = Napi::Array::New(env, 8);
    for (int side = 0; side < 2; side++) {
      const RingControl* c = RingAt(base_, cap_, side == 0 ? role_ : 1 - role_).ctl;
      out.Set(side * 4 + 0, Napi::Number::New(env, static_cast<double>(c->head.load())));
      out.Set(side * 4 + 1, Napi::Number::New(env, static_cast<double>(c->tail.load())));
      out.Set(side * 4 + 2, Napi::Number::New(env, c->readerArmed.load()));
      out.Set(side * 4 + 3, Napi::Number::New(env, c->writerWaiting.load()));
    }
    return out;
  }

  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t cap_ = 0;
  int role_ = 0;
  int peerBell_ = -1;
  Spinner* spinner_ = nullptr;
  bool ringDeferred_ = false;  // listed in spinner_->ringing
  RingWriter writer_;
  RingReader reader_;
  std::vector<FrameRef> frames_;
  uint32_t id_ = 0;
  Napi::ObjectReference readBuf_;
  Napi::ObjectReference stage_;
};

// The link of id `v` (a number), or an ERR_UNIPC_SHM_CLOSED error.
Link* LinkOf(const Napi::Value& v) {
  Link* link = FindLink(v.As<Napi::Number>().Uint32Value());
  if (!link) throw CodedError(v.Env(), "link is closed", "ERR_UNIPC_SHM_CLOSED");
  return link;
}

// Argument `i` of a fast call as a u32 (a TypeError unless a number; only link.ts calls these,
// and every value is checked against a bound below).
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
// Argument `i` of a fast call as a boolean (a TypeError unless a boolean).
bool BoolArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Boolean>().Value(); }

// linkRead(id, maxBytes, arm, offset) -> as read(maxBytes, arm, into, offset) with `into` the
// buffer registered by setReadBuffer.
Napi::Value LinkRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Link* link = LinkOf(info[0]);
  const uint64_t maxBytes = U32Arg(info, 1);
  const bool arm = BoolArg(info, 2);
  const uint64_t at = U32Arg(info, 3);
  if (at >= link->readLen_) throw Napi::RangeError::New(env, "offset is not inside the read buffer");
  return Napi::Number::New(env, link->ReadInto(env, maxBytes, arm, link->readData_ + at, at, link->readLen_ - at));
}

// linkWrite(id, length, wake) -> as writeBatch(stage, length, wake) with the stage registered by
// setStage.
Napi::Value LinkWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Link* link = LinkOf(info[0]);
  const uint64_t n = U32Arg(info, 1);
  if (n > link->stageLen_) throw Napi::RangeError::New(env, "length is past the end of the stage");
  const bool wake = BoolArg(info, 2);
  return Napi::Number::New(env, static_cast<double>(link->WriteRecords(env, link->stageData_, n, wake)));
}

// linkPending(id) -> whether the link's incoming ring holds unread bytes (false once closed): one
// load, so a pump can skip reading an empty ring.
Napi::Value LinkPending(const Napi::CallbackInfo& info) {
  Link* link = FindLink(info[0].As<Napi::Number>().Uint32Value());
  return Napi::Boolean::New(info.Env(), link != nullptr && link->Pending());
}

void Spinner::RingAll() {
  for (Link* link : ringing) link->RingDeferred();
  ringing.clear();
}

bool Spinner::AnyPending() const {
  for (const Link* link : links)
    if (link->SpinPending()) return true;
  return false;
}

// Arms every ring (all of them, even after one had data); true when all are armed and empty.
bool Spinner::ArmAll() {
  bool all = true;
  for (Link* link : links)
    if (!link->SpinArm()) all = false;
  return all;
}


// ---------------------------------------------------------------------------------------------
// Slab: a reusable segment for large payloads of one link direction (see ring.h). Both sides map
// it with MAP_POPULATE, so copying in and out never page-faults.

class Slab : public Napi::ObjectWrap<Slab> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Slab",
                       {
                           InstanceMethod<&Slab::Write>("write"),
                           InstanceMethod<&Slab::Read>("read"),
                           InstanceMethod<&Slab::Close>("close"),
                           InstanceAccessor<&Slab::Capacity>("capacity"),
                       });
  }

  // new Slab(name, capacity, create): create = true makes the segment (O_EXCL, 0600, owner
  // checked) and writes its header; false maps a peer's after checking owner, mode, header and
  // size (`capacity` is then the largest accepted).
  explicit Slab(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Slab>(info) {
    Napi::Env env = info.Env();
    const std::string name = ToName(info[0]);
    const uint64_t cap = ToU64(info[1], "capacity");
    const bool create = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    if (!ValidSlabCapacity(cap))
      throw CodedError(env, "slab capacity must be a power of two between 64 KiB and 1 GiB", "ERR_INVALID_ARG_VALUE");
    int fd = shm_open(name.c_str(), create ? O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC : O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) throw ErrnoError(env, "shm_open(" + name + ")", errno);
    struct stat st;
    const char* why = create && fchmod(fd, 0600) != 0 ? "fchmod failed" : CheckOwnership(fd, st);
    uint64_t size = SlabSegmentSize(cap);
    if (!why && create && ftruncate(fd, static_cast<off_t>(size)) != 0) why = "ftruncate failed";
    if (!why && !create) {
      size = static_cast<uint64_t>(st.st_size);
      if (size < kSlabHeaderSize || size > SlabSegmentSize(cap)) why = "unexpected size";
    }
    if (why) {
      close(fd);
      if (create) shm_unlink(name.c_str());
      throw CodedError(env, "slab " + name + " is refused: " + why, create ? "ERR_UNIPC_SHM_SYS" : "ERR_UNIPC_SHM_PERMISSION");
    }
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    const int err = errno;
    close(fd);
    if (base == MAP_FAILED) {
      if (create) shm_unlink(name.c_str());
      throw ErrnoError(env, "mmap(" + name + ")", err);
    }
    uint8_t* b = static_cast<uint8_t*>(base);
    uint64_t realCap = cap;
    if (create) {
      SegmentHeader h{kSlabMagic, kVersion, static_cast<uint32_t>(kSlabHeaderSize), cap, static_cast<uint32_t>(getpid()), 0};
      std::memcpy(b, &h, sizeof h);
    } else if (const char* bad = ValidateSlabHeader(b, size, realCap)) {
      munmap(base, size);
      throw CodedError(env, "slab " + name + ": " + bad, "ERR_UNIPC_SHM_CORRUPT");
    }
    base_ = b;
    size_ = size;
    cap_ = realCap;
    writer_ = SlabWriter(b, realCap);
    reader_ = SlabReader(b, realCap);
  }

  ~Slab() override { Unmap(); }

 private:
  void Unmap() {
    if (base_) munmap(base_, size_);
    base_ = nullptr;
  }

  void AssertOpen(Napi::Env env) const {
    if (!base_) throw CodedError(env, "slab is closed", "ERR_UNIPC_SHM_CLOSED");
  }

  Napi::Value Capacity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(cap_)); }

  // write(head?, body) -> position, or -1 when the slab has no room (the caller uses a blob).
  // `body` may be a list of Uint8Arrays: they are copied in one after the other.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    parts_.clear();
    AppendParts(info[0], parts_);
    AppendParts(info[1], parts_);
    uint64_t pos = 0;
    switch (writer_.Write(parts_.data(), parts_.size(), pos)) {
      case SlabResult::kOk:
        return Napi::Number::New(env, static_cast<double>(pos));
      case SlabResult::kNoRoom:
        return Napi::Number::New(env, -1);
      case SlabResult::kCorrupt:
      default:
        throw CodedError(env, "peer corrupted the slab's head position", "ERR_UNIPC_SHM_CORRUPT");
    }
  }

  // read(position, length) -> Buffer: checks the range, copies it out once, frees the space.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AssertOpen(env);
    const uint64_t pos = ToU64(info[0], "position");
    const uint64_t len = ToU64(info[1], "length");
    if (const char* why = reader_.Check(pos, len))
      throw CodedError(env, std::string("corrupt slab descriptor from peer: ") + why, "ERR_UNIPC_SHM_CORRUPT");
    // Into the caller's buffer when given (allocated by JS: Buffer.allocUnsafe reuses memory
    // where a fresh native allocation of this size would page-fault on every byte).
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsBuffer()) throw Napi::TypeError::New(env, "destination must be a Buffer");
      auto dst = info[2].As<Napi::Buffer<uint8_t>>();
      if (dst.Length() < len) throw Napi::RangeError::New(env, "destination is smaller than the payload");
      reader_.Take(pos, len, dst.Data());
      return dst;
    }
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, len);
    reader_.Take(pos, len, out.Data());
    return out;
  }

  void Close(const Napi::CallbackInfo&) { Unmap(); }

  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t cap_ = 0;
  std::vector<SlabPart> parts_;  // reused by every write
  SlabWriter writer_;
  SlabReader reader_;
};

// ---------------------------------------------------------------------------------------------
// Bell: this process's doorbell. A FIFO opened O_RDWR|O_NONBLOCK (so it never blocks and never
// sees EOF); libuv polls it on the JS thread and the callback runs as a proper async callback
// (MakeCallback), so promise jobs queued by handlers run right after it.

class Bell : public Napi::ObjectWrap<Bell> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Bell",
                       {
                           InstanceMethod<&Bell::Start>("start"),
                           InstanceMethod<&Bell::Spin>("spin"),
                           InstanceMethod<&Bell::Watch>("watch"),
                           InstanceMethod<&Bell::SpinStats>("spinStats"),
                           InstanceMethod<&Bell::Close>("close"),
                           InstanceAccessor<&Bell::Fd>("fd"),
                       });
  }

  // new Bell(path): makes the FIFO (mode 0600, must not exist) and opens it.
  explicit Bell(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Bell>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "bell path must be a string");
    path_ = info[0].As<Napi::String>().Utf8Value();
    if (mkfifo(path_.c_str(), 0600) != 0) throw ErrnoError(env, "mkfifo(" + path_ + ")", errno);
    fd_ = open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      unlink(path_.c_str());
      throw ErrnoError(env, "open(" + path_ + ")", err);
    }
  }

  ~Bell() override {
    // The poll handle is closed (and freed) in Close(); here we only make sure fd and path go.
    if (fd_ >= 0 && !poll_) {
      close(fd_);
      unlink(path_.c_str());
    }
    // Never closed (the environment is going away): the spinner must not call us any more. Its
    // handles stay allocated, as links may still point at it.
    if (spinner_) {
      spinner_->bell = nullptr;
      uv_prepare_stop(&spinner_->prepare);
      uv_idle_stop(&spinner_->kick);
    }
  }

  // Calls the JS callback as an async callback: promise jobs and process.nextTick callbacks it
  // queues (the replies it stages, say) run before this returns.
  void Deliver() {
    Napi::HandleScope scope(env_);
    try {
      callback_.MakeCallback(env_.Global(), {}, *context_);
    } catch (const Napi::Error& e) {
      // A throwing handler becomes an uncaught exception in JS, as with any event callback.
      napi_fatal_exception(env_, e.Value());
    }
  }

 private:
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  // start(callback): calls `callback()` on the JS thread each time the bell rings.
  void Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw CodedError(env, "bell is closed", "ERR_UNIPC_SHM_CLOSED");
    if (poll_) throw CodedError(env, "bell already started", "ERR_UNIPC_SHM_STATE");
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "unipc-shm-bell");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw CodedError(env, "no event loop", "ERR_UNIPC_SHM_STATE");
    poll_ = new uv_poll_t;
    poll_->data = this;
    uv_poll_init(loop, poll_, fd_);
    uv_poll_start(poll_, UV_READABLE, &Bell::OnReadable);
    env_ = env;
    Ref();  // stay alive while polling
  }

  static void OnReadable(uv_poll_t* handle, int status, int) {
    Bell* self = static_cast<Bell*>(handle->data);
    if (!self || self->fd_ < 0) return;
    // Drain the wake-up bytes; a short read means the FIFO is empty (no second read for EAGAIN).
    char buf[256];
    ssize_t n;
    do {
      n = read(self->fd_, buf, sizeof buf);
    } while (n == static_cast<ssize_t>(sizeof buf) || (n < 0 && errno == EINTR));
    if (status < 0) return;
    if (Spinner* s = self->spinner_) {
      if (s->sleptAt) s->Adapt(uv_hrtime() - s->sleptAt);
      s->sleptAt = 0;
    }
    self->Deliver();
  }

  // spin(µs): after activity on a watched link, poll the rings for up to `µs` before arming them
  // and letting the loop sleep (see Spinner). From then on the caller must not arm rings itself
  // (reads leave them unarmed): they are armed right before the loop blocks. 0 does nothing.
  void Spin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t us = ToU64(info[0], "spin budget");
    if (us > 1000000) throw Napi::RangeError::New(env, "spin budget must be at most 1000000 µs");
    if (!poll_) throw CodedError(env, "bell is not started", "ERR_UNIPC_SHM_STATE");
    if (us == 0) return;
    if (!spinner_) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw CodedError(env, "no event loop", "ERR_UNIPC_SHM_STATE");
      Spinner* s = new Spinner;
      s->bell = this;
      s->prepare.data = s;
      s->kick.data = s;
      uv_prepare_init(loop, &s->prepare);
      uv_idle_init(loop, &s->kick);
      // Neither keeps the process alive: they only matter while something else does.
      uv_unref(reinterpret_cast<uv_handle_t*>(&s->prepare));
      uv_unref(reinterpret_cast<uv_handle_t*>(&s->kick));
      uv_prepare_start(&s->prepare, &Bell::OnPrepare);
      spinner_ = s;
    }
    spinner_->budgetNs = us * 1000;
    spinner_->windowNs = us * 1000;
  }

  // watch(link): poll this link's incoming ring while spinning (until it closes). Needs spin().
  void Watch(const Napi::CallbackInfo& info) {
    Link* link = Link::From(info[0]);
    if (!link) throw Napi::TypeError::New(info.Env(), "watch() takes a Link");
    if (spinner_) link->SetSpinner(spinner_);
  }

  // spinStats() -> [µs spent polling, deliveries from the poll, sleeps after polling, current
  // window in µs] (diagnostics).
  Napi::Value SpinStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 4);
    const Spinner* s = spinner_;
    out.Set(0u, Napi::Number::New(env, s ? static_cast<double>(s->spunNs) / 1000 : 0));
    out.Set(1u, Napi::Number::New(env, s ? static_cast<double>(s->hits) : 0));
    out.Set(2u, Napi::Number::New(env, s ? static_cast<double>(s->sleeps) : 0));
    out.Set(3u, Napi::Number::New(env, s ? static_cast<double>(s->windowNs) / 1000 : 0));
    return out;
  }

  // A continuous run of deliveries from one prepare callback returns to the loop after this long.
  static constexpr uint64_t kMaxPrepareNs = 1000000;

  static void OnPrepare(uv_prepare_t* handle) {
    Spinner* s = static_cast<Spinner*>(handle->data);
    if (!s->bell) return;
    if (s->links.empty()) return s->RingAll();
    uv_loop_t* loop = handle->loop;
    const uint64_t started = uv_hrtime();
    for (;;) {
      // Doorbells of this iteration first: this process has nothing left to do but poll or sleep.
      s->RingAll();
      uint64_t now = uv_hrtime();
      if (s->active) {
        s->active = false;
        s->lastActivity = now;
        s->sleptAt = 0;  // woken by something else than a message: nothing to learn
      }
      // Timers due, immediates, pending callbacks: the loop will not block, and arming can wait
      // for the prepare before a poll that does.
      uv_update_time(loop);
      const int timeout = uv_backend_timeout(loop);
      if (timeout == 0) return;
      uint64_t deadline = s->lastActivity + s->windowNs;
      if (timeout > 0) deadline = std::min(deadline, now + static_cast<uint64_t>(timeout) * 1000000);
      bool data = false;
      const uint64_t spinStart = now;
      for (uint32_t n = 1; now < deadline; n++) {
        if (s->AnyPending()) {
          data = true;
          break;
        }
        // Every few µs: has another file descriptor become ready (a socket, a timer's or a
        // worker's wake-up, our own doorbell)? Then the loop has work: stop spinning.
        if ((n & 7) == 0 && OtherIoReady(loop)) break;
        // Yield rather than pause: the peer we wait for is often runnable on this very CPU (the
        // kernel wakes it where its waker ran); pausing kept it off until our time slice ended.
        // Measured: 13 µs round trips yielding, 26-34 µs pausing even only for the first 64 looks.
        // With nothing else runnable sched_yield returns at once.
        sched_yield();
        now = uv_hrtime();
      }
      s->spunNs += now - spinStart;
      // All rings armed and empty: sleeping is safe, a writer rings from now on.
      if (!data && s->ArmAll()) {
        s->sleeps++;
        s->sleptAt = s->lastActivity;
        return;
      }
      s->hits++;
      if (now - started > kMaxPrepareNs) {
        // Deliveries have kept this callback busy long enough: the loop gets its turn (it polls
        // without blocking while the kick is active) and the next prepare goes on.
        uv_idle_start(&s->kick, [](uv_idle_t* h) { uv_idle_stop(h); });
        return;
      }
      const uint64_t reads = s->reads;
      s->bell->Deliver();
      if (!s->bell) return;  // the callback closed the bell
      // Nothing was read (a ring the callback does not drain): do not spin on it, but arm the
      // others, and what the callback wrote still rings its readers before the loop polls.
      if (s->reads == reads) {
        s->ArmAll();
        return s->RingAll();
      }
    }
  }

  static bool OtherIoReady(uv_loop_t* loop) {
    struct pollfd p = {uv_backend_fd(loop), POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }


  // close(): stops polling, closes the fd and removes the FIFO. Idempotent.
  void Close(const Napi::CallbackInfo&) {
    if (fd_ < 0) return;
    if (spinner_) {
      Spinner* s = spinner_;
      spinner_ = nullptr;
      s->bell = nullptr;
      for (Link* link : s->links) link->DropSpinner();
      s->RingAll();
      s->links.clear();
      uv_prepare_stop(&s->prepare);
      uv_idle_stop(&s->kick);
      const auto closed = [](uv_handle_t* h) {
        Spinner* sp = static_cast<Spinner*>(h->data);
        if (--sp->openHandles == 0) delete sp;
      };
      uv_close(reinterpret_cast<uv_handle_t*>(&s->prepare), closed);
      uv_close(reinterpret_cast<uv_handle_t*>(&s->kick), closed);
    }
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      callback_.Reset();
      context_.reset();
      Unref();
    }
    close(fd_);
    unlink(path_.c_str());
    fd_ = -1;
  }

  std::string path_;
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::Env env_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  Spinner* spinner_ = nullptr;
};

// openPeerBell(path) -> fd: the write end of a peer's FIFO, checked to be a FIFO we own.
Napi::Value OpenPeerBell(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "bell path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, "open(" + path + ")", errno);
  struct stat st;
  const char* why = CheckOwnership(fd, st);
  if (!why && !S_ISFIFO(st.st_mode)) why = "not a FIFO";
  if (why) {
    close(fd);
    throw CodedError(env, "peer bell " + path + " is refused: " + why, "ERR_UNIPC_SHM_PERMISSION");
  }
  return Napi::Number::New(env, fd);
}

void CloseFd(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) {
    const int fd = info[0].As<Napi::Number>().Int32Value();
    if (fd > 2) close(fd);
  }
}

void RingBell(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) RingFd(info[0].As<Napi::Number>().Int32Value());
}

// Writes all of `p` at `offset`, retrying short writes and EINTR; returns 0 or an errno.
int WriteAll(int fd, const uint8_t* p, size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
  return 0;
}

// writeBlob(name, head, body): a new segment (O_EXCL, 0600) holding head+body; one copy in.
// `body` may be a list of Uint8Arrays, written one after the other.
// pwrite rather than mmap: the kernel allocates and fills the pages in one pass, with no page
// faults and no TLB shootdown at munmap.
void WriteBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = ToName(info[0]);
  std::vector<SlabPart> parts;
  AppendParts(info[1], parts);
  AppendParts(info[2], parts);
  int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw ErrnoError(env, "shm_open(" + name + ")", errno);
  int err = fchmod(fd, 0600) != 0 ? errno : 0;
  uint64_t offset = 0;
  for (const SlabPart& p : parts) {
    if (err) break;
    err = WriteAll(fd, p.data, p.length, static_cast<off_t>(offset));
    offset += p.length;
  }
  close(fd);
  if (err) {
    shm_unlink(name.c_str());
    throw ErrnoError(env, "cannot write blob " + name, err);
  }
}

// readBlob(name, length) -> Buffer: checks owner, mode and exact size, unlinks, copies out once.
Napi::Value ReadBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = ToName(info[0]);
  const uint64_t length = ToU64(info[1], "length");
  int fd = shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, "shm_open(" + name + ")", errno);
  shm_unlink(name.c_str());
  struct stat st;
  if (const char* why = CheckOwnership(fd, st)) {
    close(fd);
    throw CodedError(env, "blob " + name + " is refused: " + why, "ERR_UNIPC_SHM_PERMISSION");
  }
  if (static_cast<uint64_t>(st.st_size) != length) {
    close(fd);
    throw CodedError(env, "blob " + name + " size does not match its descriptor", "ERR_UNIPC_SHM_CORRUPT");
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, length);
  uint64_t done = 0;
  while (done < length) {
    const ssize_t r = pread(fd, out.Data() + done, length - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int err = r < 0 ? errno : EIO;
      close(fd);
      throw ErrnoError(env, "read(" + name + ")", err);
    }
    done += static_cast<uint64_t>(r);
  }
  close(fd);
  return out;
}

// lockFile(path) -> fd holding an exclusive flock, or -1 when another process holds it. The
// kernel drops the lock when the holder dies, so a killed broker never leaves a stale lock.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "lock path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw ErrnoError(env, "open(" + path + ")", errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw ErrnoError(env, "flock(" + path + ")", err);
  }
  return Napi::Number::New(env, fd);
}

// tuneMalloc() -> true when glibc's allocator was tuned for large payloads. Once per process,
// on the first large payload (link.ts): by default glibc returns a freed 1 MiB buffer's pages to
// the kernel (munmap, or trimming the heap top past 2 MiB), so every fresh payload buffer -- ours,
// the core's frames, the codec's copies -- page-faults on each of its pages again; that cost a
// third of the CPU of a 1 MiB round trip. Buffers below 32 MiB now come from the heap and up to
// 64 MiB of free heap top stay mapped for the next ones. Settings the user made (MALLOC_*_
// variables, malloc tunables) are left alone.
// Whether tuneMalloc() ran in this process and tuned (see mallocTuned()).
bool gMallocTuned = false;

Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
  bool tuned = false;
#ifdef __GLIBC__
  static bool done = false;
  static bool result = false;
  if (!done) {
    done = true;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    const bool userSet = std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
                         std::getenv("MALLOC_TOP_PAD_") || std::getenv("MALLOC_MMAP_MAX_") ||
                         (tunables && std::strstr(tunables, "malloc"));
    if (!userSet) result = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
  }
  tuned = result;
#endif
  gMallocTuned = tuned;
  return Napi::Boolean::New(info.Env(), tuned);
}

// mallocTuned() -> true once tuneMalloc() has tuned glibc's allocator in this process.
Napi::Value MallocTuned(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), gMallocTuned); }

// unlinkSegment(name) -> true when it existed.
Napi::Value UnlinkSegment(const Napi::CallbackInfo& info) {
  const std::string name = ToName(info[0]);
  return Napi::Boolean::New(info.Env(), shm_unlink(name.c_str()) == 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function link = Link::Init(env);
  // Per-environment constructor, so worker threads each get their own.
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(link)));
  exports.Set("Link", link);
  exports.Set("Bell", Bell::Init(env));
  exports.Set("Slab", Slab::Init(env));
  exports.Set("openPeerBell", Napi::Function::New(env, OpenPeerBell));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("ringBell", Napi::Function::New(env, RingBell));
  exports.Set("writeBlob", Napi::Function::New(env, WriteBlob));
  exports.Set("readBlob", Napi::Function::New(env, ReadBlob));
  exports.Set("lockFile", Napi::Function::New(env, LockFile));
  exports.Set("unlinkSegment", Napi::Function::New(env, UnlinkSegment));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc));
  exports.Set("mallocTuned", Napi::Function::New(env, MallocTuned));
  // Link.read(maxBytes, arm) arms an empty ring (an addon built before it ignores `arm`).
  exports.Set("readArms", Napi::Boolean::New(env, true));
  // Bell.spin and Bell.watch exist (an addon built before has neither: no busy-poll then).
  exports.Set("spins", Napi::Boolean::New(env, true));
  // Slab.write and writeBlob take a body as a list of parts (an addon built before copies nothing
  // from a list: link.ts joins the parts itself then).
  exports.Set("writesParts", Napi::Boolean::New(env, true));
  // Link.read copies into a caller's buffer when given one (an addon built before returns a new one).
  exports.Set("readsInto", Napi::Boolean::New(env, true));
  // Plain functions for the per-batch calls (see "Fast calls").
  exports.Set("linkRead", Napi::Function::New(env, LinkRead));
  exports.Set("linkWrite", Napi::Function::New(env, LinkWrite));
  exports.Set("linkPending", Napi::Function::New(env, LinkPending));
  exports.Set("maxInlinePayload", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::Number::New(info.Env(), static_cast<double>(MaxInlinePayload(ToU64(info[0], "capacity"))));
              }));
  return exports;
}

}  // namespace
}  // namespace unipc_shm

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return unipc_shm::Init(env, exports); }

NODE_API_MODULE(unipc_shm, InitModule)
