// CipherSession::create() refuses keys that do not fit the transform, saying
// why; calls that do not fit the session fail closed instead of crashing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

using SessionParam = std::tuple<Backend, Transform>;

class CipherSessionTest : public ::testing::TestWithParam<SessionParam> {
 protected:
  Backend backend() const { return std::get<0>(GetParam()); }
  Transform transform() const { return std::get<1>(GetParam()); }
  TransformInfo info() const { return transform_info(transform()); }
  std::vector<uint8_t> cipher_key() const { return std::vector<uint8_t>(info().cipher_key_len, 7); }
  std::vector<uint8_t> salt() const { return std::vector<uint8_t>(info().salt_len, 8); }
  std::vector<uint8_t> auth_key() const { return std::vector<uint8_t>(info().auth_key_len, 9); }

  void expect_refused(const std::vector<uint8_t>& cipher_key, const std::vector<uint8_t>& salt,
                      const std::vector<uint8_t>& auth_key, const std::string& what) {
    std::string error;
    EXPECT_EQ(CipherSession::create(backend(), transform(), {cipher_key, salt, auth_key}, &error),
              nullptr)
        << what;
    EXPECT_FALSE(error.empty()) << what;
    EXPECT_NE(error.find(std::string(info().name)), std::string::npos) << error;
    // A caller that does not want the reason may pass no string.
    EXPECT_EQ(CipherSession::create(backend(), transform(), {cipher_key, salt, auth_key}, nullptr),
              nullptr)
        << what;
  }
};

TEST_P(CipherSessionTest, AcceptsFittingKeys) {
  std::string error;
  auto s =
      CipherSession::create(backend(), transform(), {cipher_key(), salt(), auth_key()}, &error);
  ASSERT_NE(s, nullptr) << error;
  EXPECT_EQ(s->backend(), backend());
  EXPECT_EQ(s->transform(), transform());
}

TEST_P(CipherSessionTest, RefusesWrongCipherKeyLength) {
  const size_t len = info().cipher_key_len;
  for (size_t wrong : {size_t{0}, len - 1, len + 1, size_t{24}}) {
    expect_refused(std::vector<uint8_t>(wrong, 7), salt(), auth_key(),
                   "cipher key of " + std::to_string(wrong) + " bytes");
  }
}

TEST_P(CipherSessionTest, RefusesWrongSaltLength) {
  for (size_t wrong : {0, 3, 4, 5, 8}) {
    if (wrong == info().salt_len) {
      continue;
    }
    expect_refused(cipher_key(), std::vector<uint8_t>(wrong, 8), auth_key(),
                   "salt of " + std::to_string(wrong) + " bytes");
  }
}

TEST_P(CipherSessionTest, RefusesWrongAuthKey) {
  if (info().aead) {
    expect_refused(cipher_key(), salt(), std::vector<uint8_t>(32, 9), "auth key on AEAD");
  } else {
    expect_refused(cipher_key(), salt(), {}, "no auth key on CBC");
    // HMAC takes any key length (RFC 2104); ESP uses 32 bytes.
    for (size_t len : {1, 20, 64, 65, 200}) {
      EXPECT_NE(
          make_session(backend(), transform(), cipher_key(), {}, std::vector<uint8_t>(len, 9)),
          nullptr);
    }
  }
}

TEST_P(CipherSessionTest, MismatchedCallsFailClosed) {
  ThreadContext thread;
  auto s = make_session(backend(), transform(), cipher_key(), salt(), auth_key());
  ASSERT_NE(s, nullptr);
  const uint8_t iv[16] = {1, 2, 3};
  const uint8_t aad[8] = {4, 5, 6};
  const std::vector<uint8_t> zeros(48, 0);
  std::vector<uint8_t> data(48, 0xab);
  uint8_t tag[16];
  std::fill(std::begin(tag), std::end(tag), 0xcd);
  if (info().aead) {
    s->cbc_encrypt(thread, iv, data.data(), data.size());
    EXPECT_EQ(data, zeros) << "cbc_encrypt on an AEAD session leaves plaintext";
    data.assign(48, 0xab);
    s->cbc_decrypt(thread, iv, data.data(), data.size());
    EXPECT_EQ(data, zeros);
    uint8_t mac1[32] = {};
    uint8_t mac2[32] = {};
    s->hmac(thread, data.data(), data.size(), mac1, 16);
    s->hmac(thread, data.data(), data.size(), mac2, 16);
    EXPECT_NE(to_hex(mac1, 16), to_hex(mac2, 16)) << "hmac on an AEAD session is predictable";
  } else {
    s->aead_seal(thread, iv, aad, sizeof aad, data.data(), data.size(), tag);
    EXPECT_EQ(data, zeros) << "aead_seal on a CBC session leaves plaintext";
    EXPECT_EQ(to_hex(tag, 16), std::string(32, '0'));
    EXPECT_FALSE(s->aead_open(thread, iv, aad, sizeof aad, data.data(), data.size(), tag));
    // Not whole blocks: nothing half-encrypted leaves.
    data.assign(48, 0xab);
    s->cbc_encrypt(thread, iv, data.data(), 47);
    EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.begin() + 47), std::vector<uint8_t>(47, 0));
    EXPECT_EQ(data[47], 0xab);
    // Zero blocks and zero-length MAC output are no-ops.
    data.assign(48, 0xab);
    s->cbc_encrypt(thread, iv, data.data(), 0);
    s->hmac(thread, data.data(), data.size(), tag, 0);
    EXPECT_EQ(data, std::vector<uint8_t>(48, 0xab));
  }
}

// aead_seal with the IV by value is the same cipher call as with a pointer
// to the IV's bytes, and opens with aead_open.
TEST_P(CipherSessionTest, SealWithIvByValueMatchesPointer) {
  if (!info().aead) {
    GTEST_SKIP() << "AEAD only";
  }
  ThreadContext thread;
  auto s =
      CipherSession::create(backend(), transform(), {cipher_key(), salt(), auth_key()}, nullptr);
  ASSERT_NE(s, nullptr);
  const uint8_t iv[8] = {0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
  uint64_t iv_value = 0;
  std::memcpy(&iv_value, iv, sizeof iv_value);
  const uint8_t aad[8] = {1, 2, 3, 4, 0x12, 0x34, 0x56, 0x78};
  for (size_t len : {size_t{0}, size_t{4}, size_t{64}, size_t{1424}}) {
    std::vector<uint8_t> by_pointer(len);
    for (size_t i = 0; i < len; ++i) {
      by_pointer[i] = static_cast<uint8_t>(i * 7);
    }
    std::vector<uint8_t> by_value = by_pointer;
    const std::vector<uint8_t> plain = by_pointer;
    uint8_t tag1[16];
    uint8_t tag2[16];
    s->aead_seal(thread, iv, aad, sizeof aad, by_pointer.data(), len, tag1);
    s->aead_seal(thread, iv_value, aad, sizeof aad, by_value.data(), len, tag2);
    EXPECT_EQ(by_value, by_pointer) << len;
    EXPECT_EQ(to_hex(tag2, 16), to_hex(tag1, 16)) << len;
    EXPECT_TRUE(s->aead_open(thread, iv, aad, sizeof aad, by_value.data(), len, tag2)) << len;
    EXPECT_EQ(by_value, plain) << len;
  }
}

INSTANTIATE_TEST_SUITE_P(All, CipherSessionTest,
                         ::testing::Combine(::testing::ValuesIn(kAllBackends),
                                            ::testing::ValuesIn(kAllTransforms)),
                         [](const auto& p) {
                           return backend_id(std::get<0>(p.param)) + "_" +
                                  transform_id(std::get<1>(p.param));
                         });

TEST(CipherSessionCreate, RefusesUnknownTransformAndBackend) {
  const std::vector<uint8_t> key(16, 1);
  const std::vector<uint8_t> salt(4, 2);
  std::string error;
  EXPECT_EQ(
      CipherSession::create(Backend::openssl, static_cast<Transform>(99), {key, salt, {}}, &error),
      nullptr);
  EXPECT_NE(error.find("unknown transform"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(CipherSession::create(static_cast<Backend>(7), Transform::aes_gcm_128, {key, salt, {}},
                                  &error),
            nullptr);
  EXPECT_NE(error.find("unknown crypto backend"), std::string::npos) << error;
}

}  // namespace
}  // namespace traverse::crypto::test
