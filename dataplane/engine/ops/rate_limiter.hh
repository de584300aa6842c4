// Token buckets keyed by a caller's 64-bit key (a hashed inner source
// address, say) to limit the ICMP errors the engine sends. Time is the
// caller's monotonic cycle count: no syscalls. One per worker; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>

namespace traverse::engine::ops {

class RateLimiter {
 public:
  // `slots` buckets (rounded up to a power of two, at least 1), each
  // refilling `rate_per_second` tokens per second up to `burst`.
  // Allocates once, here; allow() never does.
  RateLimiter(uint32_t slots, uint64_t cycles_per_second, uint32_t rate_per_second, uint32_t burst);

  // Takes a token from `key`'s bucket at time `now` (cycles); false when it
  // is empty. A `now` older than the bucket's last refill adds nothing, so a
  // clock that steps back never mints tokens.
  bool allow(uint64_t key, uint64_t now);

  uint32_t slots() const { return mask_ + 1; }

 private:
  struct Bucket {
    uint64_t last = 0;    // cycle count of the last refill
    uint64_t credit = 0;  // tokens * cycles_per_second
  };

  // Keys hash to a fixed table and colliding keys share a bucket: a sender
  // cycling through keys can at worst share (never reset) another's budget,
  // and the table never grows.
  std::unique_ptr<Bucket[]> buckets_;
  uint32_t mask_ = 0;
  uint64_t rate_ = 0;         // credit added per cycle: rate_per_second
  uint64_t capacity_ = 0;     // burst * cycles_per_second
  uint64_t cost_ = 0;         // one token: cycles_per_second
  uint64_t max_elapsed_ = 0;  // cycles after which a bucket is full anyway
};

// A key for an IP address (4 or 16 bytes) to pass to allow().
uint64_t rate_key(const uint8_t* address, uint32_t len);

}  // namespace traverse::engine::ops
