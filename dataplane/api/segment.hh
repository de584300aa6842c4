// The shared segment of one control-plane session: a sealed memfd holding a
// header (magic, API version, sizes) and the request, reply and event rings.
// The dataplane creates one per client; the client attaches the fd it gets.
// A Segment object belongs to one thread; the rings in it are SPSC (ring.hh).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/api/messages.hh"
#include "dataplane/api/ring.hh"
#include "dataplane/api/unique_fd.hh"

namespace traverse::api {

inline constexpr uint64_t kSegmentMagic = 0x31495041'53565254;  // "TRVSAPI1" little-endian
inline constexpr std::size_t kMaxSegmentSize = std::size_t{64} << 20;

enum class RingKind : uint8_t { request = 0, reply = 1, event = 2 };
inline constexpr std::size_t kRingKinds = 3;

struct SegmentConfig {
  uint32_t request_capacity = 64;
  uint32_t reply_capacity = 256;  // room for a burst of counters pages
  uint32_t event_capacity = 1024;
};

struct RingPlacement {
  uint64_t offset;  // from the start of the segment, cache-line aligned
  uint64_t bytes;   // ring_bytes(capacity)
  uint32_t capacity;
  uint32_t pad;
};

// At offset 0 of the segment.
struct SegmentHeader {
  uint64_t magic;
  uint16_t version;  // kApiVersion
  uint16_t ring_count;
  uint32_t header_size;   // sizeof(SegmentHeader)
  uint32_t message_size;  // sizeof(Message)
  uint32_t pad;
  uint64_t total_size;  // the memfd's size
  RingPlacement rings[kRingKinds];
};

enum class SegmentError : uint8_t {
  none,
  bad_config,  // a capacity is not a power of two in 1..65536
  memfd,       // memfd_create, ftruncate or fcntl(F_ADD_SEALS) failed (errno)
  map,         // mmap failed (errno)
  stat,        // fstat or F_GET_SEALS failed: not a memfd (errno)
  not_sealed,  // the peer could shrink it under us (SIGBUS): refused
  bad_size,    // smaller than a header or larger than kMaxSegmentSize
  bad_magic,
  bad_version,
  bad_layout,  // sizes, offsets or ring placement impossible
  bad_ring,    // a ring header is invalid
};
const char* segment_error_name(SegmentError e);

struct SegmentStatus {
  SegmentError error = SegmentError::none;
  int sys_errno = 0;  // for memfd, map and stat
  bool ok() const { return error == SegmentError::none; }
};

class Segment {
 public:
  Segment() = default;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  ~Segment();

  // A new zeroed segment with formatted, empty rings; sealed against resizing.
  static SegmentStatus create(const SegmentConfig& config, Segment* out);
  // Maps the segment in `fd` (ownership taken, closed on failure) after
  // checking its seals, size, header and ring headers. The layout is copied
  // to private memory before it is checked and used.
  static SegmentStatus attach(UniqueFd fd, Segment* out);

  bool valid() const { return base_ != nullptr; }
  int fd() const { return fd_.get(); }
  void close_fd() { fd_.reset(); }  // the mapping stays
  std::size_t size() const { return size_; }
  void* ring_memory(RingKind kind) const;
  std::size_t ring_size(RingKind kind) const;
  uint32_t ring_capacity(RingKind kind) const;
  // The mapping itself: tests use it to corrupt the segment on purpose.
  void* base() const { return base_; }
  void reset();

 private:
  UniqueFd fd_;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  RingPlacement rings_[kRingKinds] = {};  // private copy of the validated layout
};

}  // namespace traverse::api
