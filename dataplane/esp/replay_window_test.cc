#include "dataplane/esp/replay_window.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <tuple>
#include <utility>

namespace traverse::esp {
namespace {

constexpr uint64_t k2p32 = uint64_t{1} << 32;

// Checks and, if accepted, updates, as the dataplane does after a good ICV.
ReplayVerdict receive(ReplayWindow& w, uint64_t seq, bool esn) {
  uint64_t inferred = 0;
  const ReplayVerdict v = w.check(static_cast<uint32_t>(seq), esn, &inferred);
  if (v == ReplayVerdict::accept) {
    EXPECT_EQ(inferred, seq);
    w.update(inferred);
  }
  return v;
}

ReplayVerdict check_only(const ReplayWindow& w, uint64_t seq, bool esn) {
  uint64_t inferred = 0;
  const ReplayVerdict v = w.check(static_cast<uint32_t>(seq), esn, &inferred);
  EXPECT_EQ(inferred, seq);
  return v;
}

TEST(ReplayWindowSize, RoundsUpAndCaps) {
  EXPECT_EQ(ReplayWindow(0).size(), 0u);
  EXPECT_EQ(ReplayWindow(1).size(), 64u);
  EXPECT_EQ(ReplayWindow(32).size(), 64u);
  EXPECT_EQ(ReplayWindow(64).size(), 64u);
  EXPECT_EQ(ReplayWindow(65).size(), 128u);
  EXPECT_EQ(ReplayWindow(1000).size(), 1024u);
  EXPECT_EQ(ReplayWindow(65536).size(), 65536u);
  EXPECT_EQ(ReplayWindow(65537).size(), 65536u);
  EXPECT_EQ(ReplayWindow(std::numeric_limits<uint32_t>::max()).size(), 65536u);
  EXPECT_EQ(ReplayWindow(1000).top(), 0u);
}

class ReplayWindowTest : public testing::TestWithParam<uint32_t> {
 protected:
  ReplayWindow w_{GetParam()};
  uint64_t size() const { return w_.size(); }
};

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowTest,
                         testing::Values(32u, 64u, 128u, 1000u, 1024u, 4096u, 65536u));

TEST_P(ReplayWindowTest, InOrderAcceptedOnceThenDuplicate) {
  for (uint64_t s = 1; s <= 3 * size(); ++s) {
    ASSERT_EQ(receive(w_, s, false), ReplayVerdict::accept) << s;
    ASSERT_EQ(w_.top(), s);
    ASSERT_EQ(check_only(w_, s, false), ReplayVerdict::duplicate) << s;
  }
}

TEST_P(ReplayWindowTest, OutOfOrderInsideWindowAcceptedOnce) {
  const uint64_t top = 10 * size() + 5;
  w_.update(top);
  // Even numbers first, then odd, all behind the top: the window must not move.
  for (uint64_t parity : {0u, 1u}) {
    for (uint64_t s = top - size() + 1; s < top; ++s) {
      if (s % 2 == parity) {
        ASSERT_EQ(receive(w_, s, false), ReplayVerdict::accept) << s;
      }
    }
  }
  EXPECT_EQ(w_.top(), top);
  for (uint64_t s = top - size() + 1; s <= top; ++s) {
    ASSERT_EQ(check_only(w_, s, false), ReplayVerdict::duplicate) << s;
  }
}

TEST_P(ReplayWindowTest, TooOldExactlyAtBoundary) {
  const uint64_t top = 5 * size() + 17;
  w_.update(top);
  EXPECT_EQ(check_only(w_, top - size() + 1, false), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, top - size(), false), ReplayVerdict::too_old);
  EXPECT_EQ(check_only(w_, top - size() - 1, false), ReplayVerdict::too_old);
  EXPECT_EQ(check_only(w_, 1, false), ReplayVerdict::too_old);
  EXPECT_EQ(w_.top(), top);
}

// Fills the whole window below `top`, then jumps by `by` and checks every
// number in and just below the new window against what it must be.
TEST_P(ReplayWindowTest, JumpsClearPassedWordsOnly) {
  const uint64_t ring_bits = std::bit_ceil(size() / 64 + 1) * 64;
  for (uint64_t by : {uint64_t{1}, uint64_t{63}, uint64_t{64}, uint64_t{65}, size() / 2, size() - 1,
                      size(), size() + 1, size() + 64, ring_bits - 1, ring_bits, ring_bits + 1,
                      2 * ring_bits + 77, uint64_t{1} << 30}) {
    SCOPED_TRACE(by);
    const uint64_t top = 7 * size() + 33;
    w_.reset(top);
    for (uint64_t s = top - size() + 1; s < top; ++s) {
      w_.update(s);
    }
    const uint64_t new_top = top + by;
    w_.update(new_top);
    ASSERT_EQ(w_.top(), new_top);
    ASSERT_EQ(check_only(w_, new_top - size(), false), ReplayVerdict::too_old);
    for (uint64_t s = new_top - size() + 1; s <= new_top; ++s) {
      const ReplayVerdict want =
          (s <= top || s == new_top) ? ReplayVerdict::duplicate : ReplayVerdict::accept;
      ASSERT_EQ(check_only(w_, s, false), want) << s;
    }
  }
}

// Outside the contract, but an old number must not set the bit of the live
// number sharing its ring slot.
TEST_P(ReplayWindowTest, UpdateLeftOfWindowIsIgnored) {
  const uint64_t ring_bits = std::bit_ceil(size() / 64 + 1) * 64;
  const uint64_t top = 4 * ring_bits + 3;
  w_.update(top);
  w_.update(top - 1 - ring_bits);
  EXPECT_EQ(w_.top(), top);
  EXPECT_EQ(check_only(w_, top - 1, false), ReplayVerdict::accept);
}

TEST_P(ReplayWindowTest, CheckChangesNothing) {
  const uint64_t top = 3 * size() + 9;
  w_.update(top);
  // Ahead and behind: checked (ICV then fails), never updated.
  EXPECT_EQ(check_only(w_, top + 5, false), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, top - 1, false), ReplayVerdict::accept);
  EXPECT_EQ(w_.top(), top);
  EXPECT_EQ(check_only(w_, top + 5, false), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, top - 1, false), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, top - size() + 1, false), ReplayVerdict::accept);
  // The genuine packets arrive later and still pass once.
  EXPECT_EQ(receive(w_, top - 1, false), ReplayVerdict::accept);
  EXPECT_EQ(receive(w_, top + 5, false), ReplayVerdict::accept);
  EXPECT_EQ(w_.top(), top + 5);
  EXPECT_EQ(check_only(w_, top - 1, false), ReplayVerdict::duplicate);
}

TEST_P(ReplayWindowTest, ZeroSequence) {
  uint64_t seq = 99;
  EXPECT_EQ(w_.check(0, false, &seq), ReplayVerdict::zero);
  EXPECT_EQ(seq, 0u);
  // ESN numbering also starts at 1: a full zero is left of the window.
  EXPECT_EQ(w_.check(0, true, &seq), ReplayVerdict::too_old);
  EXPECT_EQ(seq, 0u);
  w_.update(100);
  EXPECT_EQ(w_.check(0, false, &seq), ReplayVerdict::zero);
  EXPECT_EQ(w_.top(), 100u);
}

TEST_P(ReplayWindowTest, EsnBeforeFirstPacketIsTooOld) {
  // top 0: low halves just below 2^32 would be in subspace -1.
  uint64_t seq = 1;
  EXPECT_EQ(w_.check(std::numeric_limits<uint32_t>::max(), true, &seq), ReplayVerdict::too_old);
  EXPECT_EQ(receive(w_, 1, true), ReplayVerdict::accept);
  EXPECT_EQ(receive(w_, 2, true), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, 1, true), ReplayVerdict::duplicate);
}

TEST_P(ReplayWindowTest, EsnRolloverInfersHighHalf) {
  w_.reset(k2p32 - 10);
  EXPECT_EQ(check_only(w_, k2p32 - 10, true), ReplayVerdict::duplicate);
  for (uint64_t s = k2p32 - 9; s <= k2p32 + 20; ++s) {
    uint64_t seq = 0;
    ASSERT_EQ(w_.check(static_cast<uint32_t>(s), true, &seq), ReplayVerdict::accept) << s;
    ASSERT_EQ(seq, s);
    w_.update(seq);
    // Skip a few so that late arrivals below have something to fill.
    if (s == k2p32 - 4) {
      s += 2;
    }
  }
  EXPECT_EQ(w_.top(), k2p32 + 20);
  // Late packets from before the rollover keep the old high half.
  EXPECT_EQ(check_only(w_, k2p32 - 3, true), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, k2p32 - 5, true), ReplayVerdict::duplicate);
  EXPECT_EQ(check_only(w_, k2p32 - 20, true), ReplayVerdict::accept);
  EXPECT_EQ(receive(w_, k2p32 - 3, true), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, k2p32 - 3, true), ReplayVerdict::duplicate);
  EXPECT_EQ(check_only(w_, k2p32, true), ReplayVerdict::duplicate);
  // With ESN nothing is too old: left of the window reads as far ahead (A2.2).
  uint64_t seq = 0;
  EXPECT_EQ(w_.check(static_cast<uint32_t>(k2p32 + 20 - size()), true, &seq),
            ReplayVerdict::accept);
  EXPECT_EQ(seq, 2 * k2p32 + 20 - size());
}

// Appendix A2.2 case B: Tl < W - 1, the window straddles a 2^32 boundary.
TEST_P(ReplayWindowTest, EsnWindowSpanningBoundary) {
  const uint64_t top = 3 * k2p32 + 5;
  w_.reset(top);
  EXPECT_EQ(check_only(w_, 3 * k2p32 - 3, true), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, top - size() + 1, true), ReplayVerdict::accept);
  EXPECT_EQ(check_only(w_, 3 * k2p32 + 4, true), ReplayVerdict::accept);
  // One below the window's bottom reads as the far end of the next subspace.
  uint64_t seq = 0;
  EXPECT_EQ(w_.check(static_cast<uint32_t>(top - size()), true, &seq), ReplayVerdict::accept);
  EXPECT_EQ(seq, top - size() + k2p32);
  EXPECT_EQ(receive(w_, 3 * k2p32 - 3, true), ReplayVerdict::accept);
  EXPECT_EQ(w_.top(), top);
  EXPECT_EQ(check_only(w_, 3 * k2p32 - 3, true), ReplayVerdict::duplicate);
}

// Appendix A2.2 case A: numbers below the window's bottom belong to Th + 1.
TEST_P(ReplayWindowTest, EsnWindowInsideOneSubspace) {
  const uint64_t top = 2 * k2p32 + 1'000'000;
  w_.reset(top);
  uint64_t seq = 0;
  EXPECT_EQ(w_.check(static_cast<uint32_t>(top - size()), true, &seq), ReplayVerdict::accept);
  EXPECT_EQ(seq, top - size() + k2p32);
  EXPECT_EQ(w_.check(static_cast<uint32_t>(top - size() + 1), true, &seq), ReplayVerdict::accept);
  EXPECT_EQ(seq, top - size() + 1);
  EXPECT_EQ(w_.check(std::numeric_limits<uint32_t>::max(), true, &seq), ReplayVerdict::accept);
  EXPECT_EQ(seq, 3 * k2p32 - 1);
  EXPECT_EQ(w_.check(static_cast<uint32_t>(top), true, &seq), ReplayVerdict::duplicate);
  EXPECT_EQ(seq, top);
}

TEST(ReplayWindowDisabled, AcceptsAllButZeroAndTracksTop) {
  ReplayWindow w(0);
  EXPECT_EQ(w.size(), 0u);
  uint64_t seq = 0;
  EXPECT_EQ(w.check(0, false, &seq), ReplayVerdict::zero);
  EXPECT_EQ(receive(w, 1000, false), ReplayVerdict::accept);
  EXPECT_EQ(w.top(), 1000u);
  EXPECT_EQ(receive(w, 1000, false), ReplayVerdict::accept);  // replays too
  EXPECT_EQ(receive(w, 1, false), ReplayVerdict::accept);
  EXPECT_EQ(w.top(), 1000u);
  // ESN inference centres a 2^31 window on the top.
  w.reset(k2p32 + 5);
  EXPECT_EQ(w.check(static_cast<uint32_t>(uint64_t{1} << 31) + 6, true, &seq),
            ReplayVerdict::accept);
  EXPECT_EQ(seq, (uint64_t{1} << 31) + 6);
  EXPECT_EQ(w.check(static_cast<uint32_t>(uint64_t{1} << 31) + 5, true, &seq),
            ReplayVerdict::accept);
  EXPECT_EQ(seq, k2p32 + (uint64_t{1} << 31) + 5);
  EXPECT_EQ(receive(w, k2p32 + 5, true), ReplayVerdict::accept);
  EXPECT_EQ(receive(w, k2p32 + (uint64_t{1} << 31) + 3, true), ReplayVerdict::accept);
  EXPECT_EQ(w.top(), k2p32 + (uint64_t{1} << 31) + 3);
  // Nothing precedes 1, so from a fresh top nothing infers below it.
  w.reset(0);
  EXPECT_EQ(w.check(0, true, &seq), ReplayVerdict::too_old);
  EXPECT_EQ(w.check(std::numeric_limits<uint32_t>::max(), true, &seq), ReplayVerdict::too_old);
}

// The reference: a set of accepted numbers and a top, with A2.2 restated as
// "the one number with these low 32 bits among the 2^32 starting at the
// window's bottom", so the ring and the RFC's case split are not reused.
class Model {
 public:
  explicit Model(uint64_t size) : size_(size) {}

  std::pair<ReplayVerdict, uint64_t> check(uint32_t low, bool esn) const {
    uint64_t seq = low;
    if (!esn && low == 0) {
      return {ReplayVerdict::zero, 0};
    }
    if (esn) {
      const int64_t w = size_ != 0 ? static_cast<int64_t>(size_) : int64_t{1} << 31;
      const int64_t bottom = static_cast<int64_t>(top_) - w + 1;
      const int64_t full = bottom + static_cast<uint32_t>(low - static_cast<uint32_t>(bottom));
      if (full < 1) {
        return {ReplayVerdict::too_old, 0};
      }
      seq = static_cast<uint64_t>(full);
    }
    if (size_ == 0 || seq > top_) {
      return {ReplayVerdict::accept, seq};
    }
    if (seq + size_ <= top_) {
      return {ReplayVerdict::too_old, seq};
    }
    return {seen_.contains(seq) ? ReplayVerdict::duplicate : ReplayVerdict::accept, seq};
  }

  void update(uint64_t seq) {
    top_ = std::max(top_, seq);
    if (size_ != 0) {
      seen_.insert(seq);
      // Forget what can only be too old, to keep the set small.
      if (top_ >= size_) {
        seen_.erase(seen_.begin(), seen_.lower_bound(top_ - size_ + 1));
      }
    }
  }

  void reset(uint64_t top) {
    seen_.clear();
    top_ = 0;
    update(top);
  }

  uint64_t top() const { return top_; }

 private:
  uint64_t size_;
  uint64_t top_ = 0;
  std::set<uint64_t> seen_;
};

class ReplayWindowModelTest : public testing::TestWithParam<std::tuple<uint32_t, bool>> {};

INSTANTIATE_TEST_SUITE_P(SizesAndEsn, ReplayWindowModelTest,
                         testing::Combine(testing::Values(0u, 32u, 64u, 1000u, 4096u, 65536u),
                                          testing::Bool()));

// Compares every low half around the window, the way a sweep of packets would.
void expect_same_window(const ReplayWindow& w, const Model& m, bool esn, uint64_t span) {
  const uint64_t from = w.top() > span + 2 ? w.top() - span - 2 : 0;
  for (uint64_t s = from; s <= w.top() + 2; ++s) {
    const uint32_t low = static_cast<uint32_t>(s);
    uint64_t seq = 0;
    const ReplayVerdict v = w.check(low, esn, &seq);
    ASSERT_EQ(std::make_pair(v, seq), m.check(low, esn)) << "low " << low;
  }
}

TEST_P(ReplayWindowModelTest, MatchesReferenceOverRandomTraffic) {
  const auto [size, esn] = GetParam();
  ReplayWindow w(size);
  Model m(w.size());
  std::mt19937_64 rng(size * 2 + (esn ? 1 : 0));
  const uint64_t span = w.size() != 0 ? w.size() : 4096;
  const uint64_t ring_bits = std::bit_ceil(span / 64 + 1) * 64;
  const uint64_t big_jump = esn ? (uint64_t{1} << 31) - 1 : uint64_t{1} << 24;
  auto uniform = [&rng](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  auto reset_both = [&](uint64_t top) {
    w.reset(top);
    m.reset(top);
  };
  reset_both(esn ? k2p32 - 1000 : 0);
  for (int op = 0; op < 1'000'000; ++op) {
    const uint64_t top = w.top();
    const uint64_t dice = uniform(0, 999);
    uint64_t next = 0;
    if (dice < 600) {
      next = top + uniform(1, 4);
    } else if (dice < 900) {
      next = top - std::min(top, uniform(0, span + span / 2));
    } else if (dice < 990) {
      next = top + uniform(1, 2 * ring_bits);
    } else if (dice < 995) {
      next = top + uniform(1, big_jump);
    } else if (dice < 999) {
      next = uniform(0, std::numeric_limits<uint32_t>::max());  // any low half
    } else {
      reset_both(esn ? uniform(0, 100) * k2p32 + uniform(0, 200) - 100 + 1000
                     : uniform(0, uint64_t{1} << 31));
      continue;
    }
    if (!esn && next >= k2p32 - (uint64_t{1} << 25)) {
      reset_both(uniform(0, uint64_t{1} << 20));  // a rekey, long before exhaustion
      continue;
    }
    const uint32_t low = static_cast<uint32_t>(next);
    uint64_t seq = 0;
    const ReplayVerdict v = w.check(low, esn, &seq);
    ASSERT_EQ(std::make_pair(v, seq), m.check(low, esn)) << "op " << op << " low " << low;
    ASSERT_EQ(w.top(), top);                                 // check() alone never moves the window
    if (v == ReplayVerdict::accept && uniform(0, 9) != 0) {  // 1 in 10 fails its ICV
      w.update(seq);
      m.update(seq);
    }
    ASSERT_EQ(w.top(), m.top());
    if (op % 65536 == 0) {
      expect_same_window(w, m, esn, span);
    }
  }
  expect_same_window(w, m, esn, span);
}

}  // namespace
}  // namespace traverse::esp
