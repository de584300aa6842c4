#include "dataplane/engine/ops/rate_limiter.hh"

#include <cstring>

namespace traverse::engine::ops {
namespace {

// Finalizer of SplitMix64: spreads adjacent keys (consecutive addresses)
// across the table.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

RateLimiter::RateLimiter(uint32_t slots, uint64_t cycles_per_second, uint32_t rate_per_second,
                         uint32_t burst) {
  uint32_t size = 1;
  while (size < slots && size < (1u << 30)) {
    size <<= 1;
  }
  mask_ = size - 1;
  cost_ = cycles_per_second == 0 ? 1 : cycles_per_second;
  rate_ = rate_per_second;
  // burst (32 bits) * cycles per second (~2^32 for a 4 GHz TSC) fits 64 bits;
  // saturate anyway for absurd inputs.
  capacity_ = burst != 0 && cost_ > UINT64_MAX / burst ? UINT64_MAX : burst * cost_;
  // Refilling for longer than this fills any bucket; bounding elapsed time
  // keeps elapsed * rate from overflowing after a long idle spell.
  max_elapsed_ = rate_ == 0 ? 0 : capacity_ / rate_ + 1;
  buckets_ = std::make_unique<Bucket[]>(size);
  for (uint32_t i = 0; i < size; ++i) {
    buckets_[i].credit = capacity_;
  }
}

bool RateLimiter::allow(uint64_t key, uint64_t now) {
  Bucket& b = buckets_[mix(key) & mask_];
  if (now > b.last) {
    uint64_t elapsed = now - b.last;
    if (elapsed > max_elapsed_) {
      elapsed = max_elapsed_;
    }
    const uint64_t room = capacity_ - b.credit;
    uint64_t added = 0;
    if (__builtin_mul_overflow(elapsed, rate_, &added)) {
      added = room;  // only for a saturated capacity: the bucket is full
    }
    b.credit += added < room ? added : room;
    b.last = now;
  }
  if (b.credit < cost_) {
    return false;
  }
  b.credit -= cost_;
  return true;
}

uint64_t rate_key(const uint8_t* address, uint32_t len) {
  uint64_t key = len;
  for (uint32_t i = 0; i < len; i += 8) {
    uint8_t word[8] = {};
    std::memcpy(word, address + i, len - i < 8 ? len - i : 8);
    uint64_t v = 0;
    std::memcpy(&v, word, 8);
    key = mix(key ^ v);
  }
  return key;
}

}  // namespace traverse::engine::ops
