#include "dataplane/api/ring.hh"

#include <cstring>
#include <new>

namespace traverse::api {
namespace {

bool is_power_of_two(uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

struct Validated {
  RingHeader* header = nullptr;
  uint32_t capacity = 0;
  uint32_t head = 0;
  uint32_t tail = 0;
};

// Reads the shared header once into private values and checks them: the peer
// may rewrite it at any moment, so nothing is re-read after this.
RingError validate_header(void* memory, std::size_t bytes, Validated* out) {
  if (reinterpret_cast<uintptr_t>(memory) % kCacheLine != 0) {
    return RingError::misaligned;
  }
  if (memory == nullptr || bytes < sizeof(RingHeader)) {
    return RingError::too_small;
  }
  auto* header = std::launder(reinterpret_cast<RingHeader*>(memory));
  uint64_t magic = 0;
  uint32_t capacity = 0;
  uint32_t slot_size = 0;
  std::memcpy(&magic, &header->magic, sizeof magic);
  std::memcpy(&capacity, &header->capacity, sizeof capacity);
  std::memcpy(&slot_size, &header->slot_size, sizeof slot_size);
  if (magic != kRingMagic) {
    return RingError::bad_magic;
  }
  if (slot_size != sizeof(Message)) {
    return RingError::bad_slot_size;
  }
  if (!is_power_of_two(capacity) || capacity > kMaxRingCapacity) {
    return RingError::bad_capacity;
  }
  if (bytes < ring_bytes(capacity)) {
    return RingError::too_small;
  }
  const uint32_t head = header->head.load(std::memory_order_acquire);
  const uint32_t tail = header->tail.load(std::memory_order_acquire);
  if (tail - head > capacity) {
    return RingError::bad_indices;
  }
  *out = {header, capacity, head, tail};
  return RingError::none;
}

}  // namespace

const char* ring_status_name(RingStatus s) {
  switch (s) {
    case RingStatus::ok:
      return "ok";
    case RingStatus::empty:
      return "empty";
    case RingStatus::full:
      return "full";
    case RingStatus::corrupt:
      return "corrupt";
    case RingStatus::detached:
      return "detached";
  }
  return "unknown";
}

const char* ring_error_name(RingError e) {
  switch (e) {
    case RingError::none:
      return "none";
    case RingError::misaligned:
      return "ring memory not aligned to a cache line";
    case RingError::too_small:
      return "ring memory smaller than the ring";
    case RingError::bad_capacity:
      return "ring capacity not a power of two in 1..65536";
    case RingError::bad_magic:
      return "ring header magic wrong";
    case RingError::bad_slot_size:
      return "ring slot size differs from sizeof(Message)";
    case RingError::bad_indices:
      return "ring indices further apart than its capacity";
  }
  return "unknown";
}

RingError format_ring(void* memory, std::size_t bytes, uint32_t capacity) {
  if (reinterpret_cast<uintptr_t>(memory) % kCacheLine != 0) {
    return RingError::misaligned;
  }
  if (!is_power_of_two(capacity) || capacity > kMaxRingCapacity) {
    return RingError::bad_capacity;
  }
  if (memory == nullptr || bytes < ring_bytes(capacity)) {
    return RingError::too_small;
  }
  auto* header = new (memory) RingHeader{};
  header->capacity = capacity;
  header->slot_size = sizeof(Message);
  header->head.store(0, std::memory_order_relaxed);
  header->tail.store(0, std::memory_order_relaxed);
  header->magic = kRingMagic;
  // The peer gets the memory only later (a memfd sent over a socket, or a new
  // thread), which orders these plain stores before its first read.
  std::memset(static_cast<void*>(header + 1), 0, std::size_t{capacity} * sizeof(Message));
  return RingError::none;
}

RingError RingWriter::attach(void* memory, std::size_t bytes) {
  detach();
  Validated v;
  const RingError e = validate_header(memory, bytes, &v);
  if (e != RingError::none) {
    return e;
  }
  header_ = v.header;
  slots_ = reinterpret_cast<Message*>(v.header + 1);
  mask_ = v.capacity - 1;
  tail_ = v.tail;
  head_cache_ = v.head;
  return RingError::none;
}

void RingWriter::detach() {
  *this = RingWriter{};
}

RingStatus RingWriter::try_push(const Message& message) {
  if (header_ == nullptr) {
    return RingStatus::detached;
  }
  if (corrupt_) {
    return RingStatus::corrupt;
  }
  const uint32_t capacity = mask_ + 1;
  if (tail_ - head_cache_ >= capacity) {
    // Looks full: see how far the consumer got. Acquire pairs with its release
    // store, so it has finished reading the slots it handed back.
    const uint32_t head = header_->head.load(std::memory_order_acquire);
    if (tail_ - head > capacity) {
      corrupt_ = true;  // head ahead of tail, or behind by more than the ring
      return RingStatus::corrupt;
    }
    head_cache_ = head;
    if (tail_ - head == capacity) {
      return RingStatus::full;
    }
  }
  std::memcpy(&slots_[tail_ & mask_], &message, sizeof(Message));
  ++tail_;
  header_->tail.store(tail_, std::memory_order_release);
  return RingStatus::ok;
}

RingError RingReader::attach(void* memory, std::size_t bytes) {
  detach();
  Validated v;
  const RingError e = validate_header(memory, bytes, &v);
  if (e != RingError::none) {
    return e;
  }
  header_ = v.header;
  slots_ = reinterpret_cast<Message*>(v.header + 1);
  mask_ = v.capacity - 1;
  head_ = v.head;
  tail_cache_ = v.tail;
  return RingError::none;
}

void RingReader::detach() {
  *this = RingReader{};
}

RingStatus RingReader::try_pop(Message* out) {
  if (header_ == nullptr) {
    return RingStatus::detached;
  }
  if (corrupt_) {
    return RingStatus::corrupt;
  }
  if (head_ == tail_cache_) {
    // Acquire pairs with the producer's release: the slot contents are visible.
    const uint32_t tail = header_->tail.load(std::memory_order_acquire);
    if (tail - head_ > mask_ + 1) {
      corrupt_ = true;  // tail behind head, or ahead by more than the ring
      return RingStatus::corrupt;
    }
    tail_cache_ = tail;
    if (tail == head_) {
      return RingStatus::empty;
    }
  }
  std::memcpy(out, &slots_[head_ & mask_], sizeof(Message));
  // SA records carry keys: the shared slot must not keep them once read.
  explicit_bzero(&slots_[head_ & mask_], sizeof(Message));
  ++head_;
  header_->head.store(head_, std::memory_order_release);
  return RingStatus::ok;
}

}  // namespace traverse::api
