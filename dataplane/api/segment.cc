#include "dataplane/api/segment.hh"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace traverse::api {
namespace {

constexpr uint64_t align_up(uint64_t v) {
  return (v + kCacheLine - 1) & ~uint64_t{kCacheLine - 1};
}

bool good_capacity(uint32_t c) {
  return c != 0 && (c & (c - 1)) == 0 && c <= kMaxRingCapacity;
}

// The seals the creator applies: neither side can resize the file (a shrink
// would turn the other side's accesses into SIGBUS) and nobody can undo that.
constexpr int kRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

SegmentStatus fail(SegmentError e, int err = 0) {
  return {e, err};
}

// Checks a layout copied out of the shared header against the real size.
SegmentError check_layout(const SegmentHeader& h, uint64_t real_size) {
  if (h.magic != kSegmentMagic) {
    return SegmentError::bad_magic;
  }
  if (h.version != kApiVersion) {
    return SegmentError::bad_version;
  }
  if (h.header_size != sizeof(SegmentHeader) || h.message_size != sizeof(Message) ||
      h.ring_count != kRingKinds || h.total_size != real_size) {
    return SegmentError::bad_layout;
  }
  uint64_t end_of_previous = sizeof(SegmentHeader);
  for (const RingPlacement& r : h.rings) {
    // Rings in order, aligned, inside the file and not overlapping; every sum
    // below is bounded by kMaxSegmentSize, so nothing overflows.
    if (!good_capacity(r.capacity) || r.bytes != ring_bytes(r.capacity) ||
        r.offset % kCacheLine != 0 || r.offset < end_of_previous || r.offset > real_size ||
        r.bytes > real_size - r.offset) {
      return SegmentError::bad_layout;
    }
    end_of_previous = r.offset + r.bytes;
  }
  return SegmentError::none;
}

}  // namespace

const char* segment_error_name(SegmentError e) {
  switch (e) {
    case SegmentError::none:
      return "none";
    case SegmentError::bad_config:
      return "ring capacity not a power of two in 1..65536";
    case SegmentError::memfd:
      return "could not create the memfd";
    case SegmentError::map:
      return "could not map the segment";
    case SegmentError::stat:
      return "segment fd is not a sealable memfd";
    case SegmentError::not_sealed:
      return "segment is not sealed against resizing";
    case SegmentError::bad_size:
      return "segment size out of range";
    case SegmentError::bad_magic:
      return "segment magic wrong";
    case SegmentError::bad_version:
      return "segment API version differs";
    case SegmentError::bad_layout:
      return "segment layout impossible";
    case SegmentError::bad_ring:
      return "segment ring header invalid";
  }
  return "unknown";
}

Segment::Segment(Segment&& other) noexcept {
  *this = std::move(other);
}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    std::memcpy(rings_, other.rings_, sizeof rings_);
  }
  return *this;
}

Segment::~Segment() {
  reset();
}

void Segment::reset() {
  if (base_ != nullptr) {
    ::munmap(base_, size_);
  }
  base_ = nullptr;
  size_ = 0;
  fd_.reset();
  std::memset(rings_, 0, sizeof rings_);
}

void* Segment::ring_memory(RingKind kind) const {
  return base_ == nullptr ? nullptr
                          : static_cast<char*>(base_) + rings_[static_cast<int>(kind)].offset;
}

std::size_t Segment::ring_size(RingKind kind) const {
  return rings_[static_cast<int>(kind)].bytes;
}

uint32_t Segment::ring_capacity(RingKind kind) const {
  return rings_[static_cast<int>(kind)].capacity;
}

SegmentStatus Segment::create(const SegmentConfig& config, Segment* out) {
  const uint32_t capacities[kRingKinds] = {config.request_capacity, config.reply_capacity,
                                           config.event_capacity};
  SegmentHeader header{};
  header.magic = kSegmentMagic;
  header.version = kApiVersion;
  header.ring_count = kRingKinds;
  header.header_size = sizeof(SegmentHeader);
  header.message_size = sizeof(Message);
  uint64_t offset = align_up(sizeof(SegmentHeader));
  for (std::size_t i = 0; i < kRingKinds; ++i) {
    if (!good_capacity(capacities[i])) {
      return fail(SegmentError::bad_config);
    }
    header.rings[i] = {offset, ring_bytes(capacities[i]), capacities[i], 0};
    offset = align_up(offset + header.rings[i].bytes);
  }
  header.total_size = offset;

  UniqueFd fd(::memfd_create("traverse-api", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) {
    return fail(SegmentError::memfd, errno);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0 ||
      ::fcntl(fd.get(), F_ADD_SEALS, kRequiredSeals) != 0) {
    return fail(SegmentError::memfd, errno);
  }
  void* base = ::mmap(nullptr, offset, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) {
    return fail(SegmentError::map, errno);
  }
  Segment segment;
  segment.fd_ = std::move(fd);
  segment.base_ = base;
  segment.size_ = offset;
  std::memcpy(segment.rings_, header.rings, sizeof header.rings);
  for (std::size_t i = 0; i < kRingKinds; ++i) {
    const auto kind = static_cast<RingKind>(i);
    if (format_ring(segment.ring_memory(kind), segment.ring_size(kind), capacities[i]) !=
        RingError::none) {
      return fail(SegmentError::bad_config);
    }
  }
  std::memcpy(base, &header, sizeof header);
  *out = std::move(segment);
  return {};
}

SegmentStatus Segment::attach(UniqueFd fd, Segment* out) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail(SegmentError::stat, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(SegmentError::stat, EINVAL);
  }
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0) {
    return fail(SegmentError::stat, errno);
  }
  if ((seals & kRequiredSeals) != kRequiredSeals) {
    return fail(SegmentError::not_sealed);
  }
  if (st.st_size < static_cast<off_t>(sizeof(SegmentHeader)) ||
      static_cast<uint64_t>(st.st_size) > kMaxSegmentSize) {
    return fail(SegmentError::bad_size);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) {
    return fail(SegmentError::map, errno);
  }
  Segment segment;
  segment.fd_ = std::move(fd);
  segment.base_ = base;
  segment.size_ = size;

  SegmentHeader header{};
  std::memcpy(&header, base, sizeof header);  // private copy: the peer may change the original
  const SegmentError e = check_layout(header, size);
  if (e != SegmentError::none) {
    return fail(e);
  }
  std::memcpy(segment.rings_, header.rings, sizeof header.rings);
  for (std::size_t i = 0; i < kRingKinds; ++i) {
    const auto kind = static_cast<RingKind>(i);
    // A reader is the lighter probe; the real writer/reader attach again and
    // re-check, but this makes a broken ring a segment error up front.
    RingReader probe;
    if (probe.attach(segment.ring_memory(kind), segment.ring_size(kind)) != RingError::none ||
        probe.capacity() != segment.ring_capacity(kind)) {
      return fail(SegmentError::bad_ring);
    }
  }
  *out = std::move(segment);
  return {};
}

}  // namespace traverse::api
