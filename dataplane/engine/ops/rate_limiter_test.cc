#include "dataplane/engine/ops/rate_limiter.hh"

#include <gtest/gtest.h>

#include <cstdint>

namespace traverse::engine::ops {
namespace {

constexpr uint64_t kHz = 1'000'000;  // a 1 MHz "TSC" keeps the arithmetic readable

int allowed(RateLimiter& limiter, uint64_t key, uint64_t now, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) {
    n += limiter.allow(key, now) ? 1 : 0;
  }
  return n;
}

TEST(RateLimiter, BurstThenRate) {
  RateLimiter limiter(64, kHz, 10, 5);
  const uint64_t t0 = 123'456'789;
  EXPECT_EQ(allowed(limiter, 1, t0, 20), 5);
  // 10 per second: one token every 100 ms.
  EXPECT_EQ(allowed(limiter, 1, t0 + kHz / 10 - 1, 5), 0);
  EXPECT_EQ(allowed(limiter, 1, t0 + kHz / 10, 5), 1);
  EXPECT_EQ(allowed(limiter, 1, t0 + kHz / 2, 10), 4);
  // A long idle spell refills to the burst, not beyond.
  EXPECT_EQ(allowed(limiter, 1, t0 + 3600 * kHz, 100), 5);
}

TEST(RateLimiter, SteadyRateOverOneSecond) {
  // Burst 5 so the bucket is never full in steady state: a full bucket drops
  // the credit that arrives between two coarse samples.
  RateLimiter limiter(16, kHz, 100, 5);
  int n = 0;
  const uint64_t t0 = 10 * kHz;
  for (uint64_t t = t0; t < t0 + kHz; t += 997) {  // ~1000 attempts
    n += limiter.allow(42, t) ? 1 : 0;
  }
  EXPECT_GE(n, 104);  // the burst, then 100 per second
  EXPECT_LE(n, 106);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(1024, kHz, 1, 2);
  const uint64_t a = rate_key(reinterpret_cast<const uint8_t*>("\x0a\x01\x00\x07"), 4);
  const uint64_t b = rate_key(reinterpret_cast<const uint8_t*>("\x0a\x01\x00\x08"), 4);
  EXPECT_NE(a, b);
  EXPECT_EQ(allowed(limiter, a, kHz, 5), 2);
  EXPECT_EQ(allowed(limiter, b, kHz, 5), 2);
}

TEST(RateLimiter, CollidingKeysShareNeverReset) {
  RateLimiter limiter(1, kHz, 1, 3);  // one bucket: every key collides
  EXPECT_EQ(limiter.slots(), 1u);
  EXPECT_EQ(allowed(limiter, 1, kHz, 2), 2);
  EXPECT_EQ(allowed(limiter, 2, kHz, 5), 1);
  EXPECT_EQ(allowed(limiter, 3, kHz, 5), 0);
}

TEST(RateLimiter, ClockSteppingBackMintsNothing) {
  RateLimiter limiter(8, kHz, 1000, 1);
  EXPECT_TRUE(limiter.allow(7, 50 * kHz));
  EXPECT_FALSE(limiter.allow(7, 50 * kHz));
  EXPECT_FALSE(limiter.allow(7, 10 * kHz));
  EXPECT_FALSE(limiter.allow(7, 50 * kHz));
  EXPECT_TRUE(limiter.allow(7, 50 * kHz + kHz / 1000));
}

TEST(RateLimiter, EdgeConfigurations) {
  RateLimiter zero_rate(8, kHz, 0, 2);
  EXPECT_EQ(allowed(zero_rate, 1, kHz, 5), 2);
  EXPECT_EQ(allowed(zero_rate, 1, 1000 * kHz, 5), 0);

  RateLimiter zero_burst(8, kHz, 100, 0);
  EXPECT_EQ(allowed(zero_burst, 1, kHz, 5), 0);

  // Extremes must not overflow: a 4 GHz clock, huge burst and rate, and the
  // whole 64-bit time range.
  RateLimiter huge(8, 4'000'000'000ull, UINT32_MAX, UINT32_MAX);
  EXPECT_TRUE(huge.allow(1, 0));
  EXPECT_TRUE(huge.allow(1, UINT64_MAX));
  RateLimiter tiny(0, 0, 1, 1);
  EXPECT_EQ(tiny.slots(), 1u);
  EXPECT_TRUE(tiny.allow(1, 5));

  EXPECT_EQ(RateLimiter(1000, kHz, 1, 1).slots(), 1024u);
}

TEST(RateLimiter, KeyOfAddress) {
  const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  EXPECT_NE(rate_key(v6a, 16), rate_key(v6b, 16));
  EXPECT_EQ(rate_key(v6a, 16), rate_key(v6a, 16));
  EXPECT_NE(rate_key(v6a, 4), rate_key(v6a, 16));
}

}  // namespace
}  // namespace traverse::engine::ops
