// Single-producer/single-consumer ring of api::Message slots in caller-provided
// (shared) memory: lock-free, no allocation; one RingWriter thread and one
// RingReader thread, possibly in two processes. The peer is untrusted: capacity
// and our own index stay private, slots are masked, impossible indices reported.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/api/messages.hh"

namespace traverse::api {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr uint64_t kRingMagic = 0x474e495253565254;  // "TRVSRING" little-endian

// The shared header in front of the slots. head is written only by the
// consumer, tail only by the producer; each on its own cache line so the two
// cores do not bounce one line between them. Both count slots modulo 2^32.
struct RingHeader {
  uint64_t magic;
  uint32_t capacity;   // slots, a power of two
  uint32_t slot_size;  // sizeof(Message): catches a peer built with another schema
  alignas(kCacheLine) std::atomic<uint32_t> head;  // next slot to read
  alignas(kCacheLine) std::atomic<uint32_t> tail;  // next slot to write
};
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "the ring is shared between processes: its indices must be lock-free");
static_assert(sizeof(RingHeader) % kCacheLine == 0);
static_assert(sizeof(Message) % kCacheLine == 0, "slots must not share cache lines");

enum class RingStatus : uint8_t {
  ok,
  empty,     // try_pop: nothing to read
  full,      // try_push: no free slot
  corrupt,   // the peer's index is impossible; the ring is unusable from now on
  detached,  // not attached to any memory
};
const char* ring_status_name(RingStatus s);

enum class RingError : uint8_t {
  none,
  misaligned,     // memory not aligned to a cache line
  too_small,      // fewer bytes than the header or the slots it claims
  bad_capacity,   // not a power of two, zero or above kMaxRingCapacity
  bad_magic,      // not a ring header
  bad_slot_size,  // other schema
  bad_indices,    // tail - head exceeds the capacity
};
const char* ring_error_name(RingError e);

inline constexpr uint32_t kMaxRingCapacity = 1u << 16;

// Bytes a ring of `capacity` slots needs (header plus slots).
constexpr std::size_t ring_bytes(uint32_t capacity) {
  return sizeof(RingHeader) + std::size_t{capacity} * sizeof(Message);
}

// Formats `bytes` of memory as an empty ring of `capacity` slots. The creator
// does this once, before handing the memory to anyone.
RingError format_ring(void* memory, std::size_t bytes, uint32_t capacity);

// The producer's side. Writes slots, publishes tail with release ordering.
class RingWriter {
 public:
  // Validates the header in `memory` (at most `bytes` long) and takes the
  // capacity and current indices from it; they are private from then on.
  RingError attach(void* memory, std::size_t bytes);
  void detach();
  bool attached() const { return header_ != nullptr; }

  RingStatus try_push(const Message& message);
  uint32_t capacity() const { return mask_ + 1; }
  bool corrupt() const { return corrupt_; }

 private:
  RingHeader* header_ = nullptr;
  Message* slots_ = nullptr;
  uint32_t mask_ = 0;
  uint32_t tail_ = 0;        // our index: the shared copy is only published
  uint32_t head_cache_ = 0;  // last head seen: a full check costs no cache miss
  bool corrupt_ = false;
};

// The consumer's side. Copies a slot out before returning it, so the caller
// validates a private copy the producer can no longer change.
class RingReader {
 public:
  RingError attach(void* memory, std::size_t bytes);
  void detach();
  bool attached() const { return header_ != nullptr; }

  RingStatus try_pop(Message* out);
  uint32_t capacity() const { return mask_ + 1; }
  bool corrupt() const { return corrupt_; }

 private:
  RingHeader* header_ = nullptr;
  Message* slots_ = nullptr;  // written only to wipe a slot once read
  uint32_t mask_ = 0;
  uint32_t head_ = 0;        // our index
  uint32_t tail_cache_ = 0;  // last tail seen
  bool corrupt_ = false;
};

}  // namespace traverse::api
