// Anti-replay window (RFC 4303 section 3.4.3) kept as a ring of 64-bit words
// so that advancing never shifts the bitmap (RFC 6479), with extended sequence
// number inference (RFC 4303 Appendix A2). check() runs before decryption and
// changes nothing; update() runs only after the ICV verified. One writer (the
// SA's owning worker); not thread-safe.
#pragma once

#include <cstdint>
#include <memory>

namespace traverse::esp {

enum class ReplayVerdict : uint8_t {
  accept,     // new or inside the window and not yet seen
  duplicate,  // inside the window, already seen
  too_old,    // left of the window
  zero,       // 32-bit sequence numbers: zero is never sent
};

class ReplayWindow {
 public:
  static constexpr uint32_t kMaxSize = 65536;

  // `size` packets (0 disables the check; the top is still tracked so ESN
  // inference works). Sizes are rounded up to a multiple of 64; at most kMaxSize.
  explicit ReplayWindow(uint32_t size);

  // Infers the full sequence number from the 32 bits on the wire (ESN: per
  // Appendix A2; otherwise the high half is zero) into *seq, and says whether a
  // packet with it may be accepted.
  ReplayVerdict check(uint32_t seq_low, bool esn, uint64_t* seq) const;
  // Marks `seq` seen and moves the window right if it is new. Call only for a
  // sequence number check() accepted and whose ICV verified.
  void update(uint64_t seq);

  uint64_t top() const { return top_; }  // highest sequence number accepted
  uint32_t size() const { return size_; }
  // Tests and SA migration: start as if `top` had been the last accepted.
  void reset(uint64_t top);

 private:
  uint32_t size_;       // configured window, packets (multiple of 64, or 0)
  uint32_t word_mask_;  // ring length in words minus one (a power of two)
  uint64_t top_ = 0;
  std::unique_ptr<uint64_t[]> ring_;
};

}  // namespace traverse::esp
