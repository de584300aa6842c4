#include "dataplane/esp/replay_window.hh"

#include <algorithm>
#include <bit>

namespace traverse::esp {

namespace {

constexpr uint64_t kBitsPerWord = 64;

uint32_t round_size(uint32_t size) {
  // Widened so that sizes near 2^32 cannot wrap to a small window.
  const uint64_t rounded = (uint64_t{size} + kBitsPerWord - 1) & ~(kBitsPerWord - 1);
  return static_cast<uint32_t>(std::min<uint64_t>(rounded, ReplayWindow::kMaxSize));
}

// A window of `size` bits touches at most size/64 + 1 words, so one more word
// than the window keeps the word being filled apart from the oldest one.
uint32_t ring_words(uint32_t size) {
  return std::bit_ceil(size / uint32_t{kBitsPerWord} + 1);
}

}  // namespace

ReplayWindow::ReplayWindow(uint32_t size)
    : size_(round_size(size)),
      word_mask_(ring_words(size_) - 1),
      ring_(std::make_unique<uint64_t[]>(ring_words(size_))) {}  // value-initialised: clear

ReplayVerdict ReplayWindow::check(uint32_t seq_low, bool esn, uint64_t* seq) const {
  if (!esn) {
    *seq = seq_low;
    if (seq_low == 0) {
      return ReplayVerdict::zero;
    }
  } else {
    // RFC 4303 Appendix A2.2. A disabled window still needs a W to choose the
    // high half: half the space centres the guess on the top.
    const uint64_t w = size_ != 0 ? size_ : uint64_t{1} << 31;
    const uint32_t tl = static_cast<uint32_t>(top_);
    const uint64_t th = top_ >> 32;
    const uint32_t bottom = tl - static_cast<uint32_t>(w - 1);  // mod 2^32, as in the RFC
    uint64_t high = th;
    if (tl >= w - 1) {
      // Case A: the window lies within one 2^32 subspace.
      if (seq_low < bottom) {
        high = th + 1;
      }
    } else if (seq_low >= bottom) {
      // Case B: the window spans two subspaces and seq_low is in the lower one.
      // With th == 0 that subspace precedes the first packet ever sent.
      if (th == 0) {
        *seq = 0;
        return ReplayVerdict::too_old;
      }
      high = th - 1;
    }
    *seq = high << 32 | seq_low;
    if (*seq == 0) {
      // ESN numbering starts at 1 too; zero is left of every window.
      return ReplayVerdict::too_old;
    }
  }
  if (*seq > top_ || size_ == 0) {
    return ReplayVerdict::accept;
  }
  if (top_ - *seq >= size_) {
    return ReplayVerdict::too_old;
  }
  const uint64_t word = ring_[(*seq / kBitsPerWord) & word_mask_];
  const uint64_t bit = uint64_t{1} << (*seq % kBitsPerWord);
  return (word & bit) != 0 ? ReplayVerdict::duplicate : ReplayVerdict::accept;
}

void ReplayWindow::update(uint64_t seq) {
  if (seq > top_) {
    // Clear only the words the top passes into (RFC 6479); a jump wider than
    // the ring clears the ring once rather than looping over the gap.
    const uint64_t passed = seq / kBitsPerWord - top_ / kBitsPerWord;
    const uint64_t n = std::min<uint64_t>(passed, uint64_t{word_mask_} + 1);
    uint64_t index = top_ / kBitsPerWord;
    for (uint64_t i = 0; i < n; ++i) {
      ++index;
      ring_[index & word_mask_] = 0;
    }
    top_ = seq;
  }
  // A sequence number left of the window would alias a live word; the
  // disabled window (size_ 0) keeps no bits at all.
  if (top_ - seq >= size_) {
    return;
  }
  ring_[(seq / kBitsPerWord) & word_mask_] |= uint64_t{1} << (seq % kBitsPerWord);
}

void ReplayWindow::reset(uint64_t top) {
  std::fill_n(ring_.get(), uint64_t{word_mask_} + 1, uint64_t{0});
  top_ = top;
  // `top` counts as the last accepted packet, so its replay is a duplicate.
  if (size_ != 0) {
    ring_[(top / kBitsPerWord) & word_mask_] = uint64_t{1} << (top % kBitsPerWord);
  }
}

}  // namespace traverse::esp
