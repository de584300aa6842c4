// HMAC-SHA-256 known answers on both backends and both CBC transforms: RFC
// 4231's cases from the vector file (keys of 4 to 131 bytes, so the
// hash-the-long-key path runs), its test case 5 (truncated to 128 bits; the
// file leaves it out), and every truncation length against the full MAC.
#include <gtest/gtest.h>

#include <cstdio>
#include <tuple>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

using HmacParam = std::tuple<Backend, Transform>;

class HmacKat : public ::testing::TestWithParam<HmacParam> {
 protected:
  Backend backend() const { return std::get<0>(GetParam()); }
  Transform transform() const { return std::get<1>(GetParam()); }
  std::vector<uint8_t> cipher_key() const {
    return std::vector<uint8_t>(transform_info(transform()).cipher_key_len, 0x11);
  }
};

TEST_P(HmacKat, Rfc4231Vectors) {
  constexpr const char* kFile = "HMAC/rfc-4231-sha256.txt";
  std::vector<VectorCase> cases;
  std::string error;
  ASSERT_TRUE(load_vectors(kFile, &cases, &error)) << error;
  ThreadContext thread;
  size_t run = 0;
  size_t long_keys = 0;
  for (const VectorCase& c : cases) {
    const std::string where = c.where(kFile);
    std::vector<uint8_t> key, msg, md;
    ASSERT_TRUE(decode(c.get("Key"), &key) && decode(c.get("Msg"), &msg) &&
                decode(c.get("MD"), &md))
        << where;
    ASSERT_EQ(md.size(), 32u) << where;
    ASSERT_EQ(c.get("Len"), std::to_string(msg.size() * 8)) << where;
    auto session = make_session(backend(), transform(), cipher_key(), {}, key);
    ASSERT_NE(session, nullptr) << where;
    for (uint32_t out_len = 1; out_len <= 32; ++out_len) {
      std::vector<uint8_t> out(out_len + 1, 0xee);  // the last byte must stay untouched
      session->hmac(thread, msg.data(), msg.size(), out.data(), out_len);
      EXPECT_EQ(to_hex(out.data(), out_len), to_hex(md.data(), out_len))
          << where << " out_len " << out_len;
      EXPECT_EQ(out.back(), 0xee) << where << " wrote past out_len " << out_len;
    }
    long_keys += key.size() > 64 ? 1 : 0;
    ++run;
  }
  std::printf("[ vectors  ] %s on %s (%s): %zu cases, %zu with keys over 64 bytes\n", kFile,
              std::string(backend_name(backend())).c_str(),
              std::string(transform_info(transform()).name).c_str(), run, long_keys);
  EXPECT_GE(run, 6u);
  EXPECT_GE(long_keys, 2u);
}

// RFC 4231 section 4.6: the MAC truncated to 128 bits, as ESP sends it.
TEST_P(HmacKat, Rfc4231TestCase5Truncated) {
  ThreadContext thread;
  const std::vector<uint8_t> key(20, 0x0c);
  const std::string msg = "Test With Truncation";
  auto session = make_session(backend(), transform(), cipher_key(), {}, key);
  ASSERT_NE(session, nullptr);
  uint8_t out[16];
  session->hmac(thread, reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), out, sizeof out);
  EXPECT_EQ(to_hex(out, sizeof out), "a3b6167473100ee06e0c796c2955552b");
}

INSTANTIATE_TEST_SUITE_P(
    Backends, HmacKat,
    ::testing::Combine(::testing::ValuesIn(kAllBackends),
                       ::testing::Values(Transform::aes_cbc_128_hmac_sha256_128,
                                         Transform::aes_cbc_256_hmac_sha256_128)),
    [](const auto& p) {
      return backend_id(std::get<0>(p.param)) + "_" + transform_id(std::get<1>(p.param));
    });

}  // namespace
}  // namespace traverse::crypto::test
