// The two backends agree byte for byte on every transform with random keys,
// for every length up to 256 and strides up to 9000 (ESP's jumbo frames), on
// unaligned buffers; each opens the other's output; a flipped bit in data, AAD
// or tag fails both. HMAC is also checked against OpenSSL's EVP_MAC.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <random>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

constexpr uint32_t kMaxLen = 9000;

std::vector<uint32_t> lengths(uint32_t step) {
  std::vector<uint32_t> out;
  for (uint32_t len = 0; len <= 256; len += step) {
    out.push_back(len);
  }
  for (uint32_t len = 256; len <= kMaxLen; len += 97 * step) {
    out.push_back(len);
  }
  for (uint32_t len : {511u,  512u,  513u,  1023u, 1024u, 1025u, 1400u, 1440u, 1499u, 1500u,
                       2047u, 2048u, 4095u, 4096u, 4097u, 8191u, 8192u, 8193u, 8992u, kMaxLen}) {
    out.push_back(len / step * step);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t len) {
  std::vector<uint8_t> out(len);
  for (uint8_t& b : out) {
    b = static_cast<uint8_t>(rng());
  }
  return out;
}

// A copy at an odd address: ESP payloads sit wherever the headers leave them.
struct Buffer {
  explicit Buffer(const std::vector<uint8_t>& bytes, size_t offset)
      : storage(bytes.size() + offset + 1), data(storage.data() + offset), len(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), data);
  }
  std::vector<uint8_t> bytes() const { return {data, data + len}; }
  std::vector<uint8_t> storage;
  uint8_t* data;
  size_t len;
};

struct Sealed {
  std::vector<uint8_t> ct;
  std::vector<uint8_t> tag;
};

Sealed seal(ThreadContext& thread, CipherSession& s, const uint8_t* iv,
            const std::vector<uint8_t>& aad, const std::vector<uint8_t>& pt, size_t offset) {
  Buffer buf(pt, offset);
  Sealed out{{}, std::vector<uint8_t>(16)};
  s.aead_seal(thread, iv, aad.data(), aad.size(), buf.data, buf.len, out.tag.data());
  out.ct = buf.bytes();
  return out;
}

bool open(ThreadContext& thread, CipherSession& s, const uint8_t* iv,
          const std::vector<uint8_t>& aad, const Sealed& sealed, std::vector<uint8_t>* pt) {
  Buffer buf(sealed.ct, 3);
  const bool ok =
      s.aead_open(thread, iv, aad.data(), aad.size(), buf.data, buf.len, sealed.tag.data());
  if (pt != nullptr) {
    *pt = buf.bytes();
  }
  return ok;
}

class AeadEquality : public ::testing::TestWithParam<Transform> {};

TEST_P(AeadEquality, SameOutputAndCrossOpen) {
  const Transform t = GetParam();
  std::mt19937_64 rng(0x7472617665727365 + static_cast<int>(t));
  ThreadContext thread;
  const auto key = random_bytes(rng, transform_info(t).cipher_key_len);
  const auto salt = random_bytes(rng, 4);
  auto a = make_session(Backend::ipsec_mb, t, key, salt, {});
  auto b = make_session(Backend::openssl, t, key, salt, {});
  ASSERT_TRUE(a && b);
  constexpr uint32_t kAadLens[] = {8, 12, 0, 1, 13, 16, 20, 64};
  size_t i = 0;
  for (uint32_t len : lengths(1)) {
    SCOPED_TRACE("length " + std::to_string(len));
    const auto iv = random_bytes(rng, 8);
    const auto aad = random_bytes(rng, kAadLens[i++ % std::size(kAadLens)]);
    const auto pt = random_bytes(rng, len);
    const Sealed sa = seal(thread, *a, iv.data(), aad, pt, len % 7);
    const Sealed sb = seal(thread, *b, iv.data(), aad, pt, 1);
    ASSERT_EQ(to_hex(sa.ct), to_hex(sb.ct));
    ASSERT_EQ(to_hex(sa.tag), to_hex(sb.tag));
    std::vector<uint8_t> opened;
    ASSERT_TRUE(open(thread, *b, iv.data(), aad, sa, &opened));
    ASSERT_EQ(opened, pt);
    ASSERT_TRUE(open(thread, *a, iv.data(), aad, sb, &opened));
    ASSERT_EQ(opened, pt);

    // One random bit flipped in each of data, AAD and tag.
    if (len != 0) {
      Sealed bad = sa;
      bad.ct[rng() % len] ^= static_cast<uint8_t>(1u << (rng() % 8));
      EXPECT_FALSE(open(thread, *a, iv.data(), aad, bad, nullptr));
      EXPECT_FALSE(open(thread, *b, iv.data(), aad, bad, nullptr));
    }
    if (!aad.empty()) {
      auto bad_aad = aad;
      bad_aad[rng() % aad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      EXPECT_FALSE(open(thread, *a, iv.data(), bad_aad, sa, nullptr));
      EXPECT_FALSE(open(thread, *b, iv.data(), bad_aad, sa, nullptr));
    }
    Sealed bad = sa;
    bad.tag[rng() % 16] ^= static_cast<uint8_t>(1u << (rng() % 8));
    EXPECT_FALSE(open(thread, *a, iv.data(), aad, bad, nullptr));
    EXPECT_FALSE(open(thread, *b, iv.data(), aad, bad, nullptr));
    auto bad_iv = iv;
    bad_iv[rng() % 8] ^= 0x80;
    EXPECT_FALSE(open(thread, *a, bad_iv.data(), aad, sa, nullptr));
    EXPECT_FALSE(open(thread, *b, bad_iv.data(), aad, sa, nullptr));
  }
}

// Every single-bit change of one ESP-sized packet is caught by both backends.
TEST_P(AeadEquality, EveryFlippedBitRejected) {
  const Transform t = GetParam();
  std::mt19937_64 rng(42);
  ThreadContext thread;
  const auto key = random_bytes(rng, transform_info(t).cipher_key_len);
  const auto salt = random_bytes(rng, 4);
  auto a = make_session(Backend::ipsec_mb, t, key, salt, {});
  auto b = make_session(Backend::openssl, t, key, salt, {});
  ASSERT_TRUE(a && b);
  const auto iv = random_bytes(rng, 8);
  const auto aad = random_bytes(rng, 12);
  const Sealed sealed = seal(thread, *a, iv.data(), aad, random_bytes(rng, 67), 0);
  for (CipherSession* s : {a.get(), b.get()}) {
    for (size_t bit = 0; bit < sealed.ct.size() * 8; ++bit) {
      Sealed bad = sealed;
      bad.ct[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_FALSE(open(thread, *s, iv.data(), aad, bad, nullptr)) << "data bit " << bit;
    }
    for (size_t bit = 0; bit < aad.size() * 8; ++bit) {
      auto bad_aad = aad;
      bad_aad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_FALSE(open(thread, *s, iv.data(), bad_aad, sealed, nullptr)) << "aad bit " << bit;
    }
    for (size_t bit = 0; bit < 128; ++bit) {
      Sealed bad = sealed;
      bad.tag[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_FALSE(open(thread, *s, iv.data(), aad, bad, nullptr)) << "tag bit " << bit;
    }
    EXPECT_TRUE(open(thread, *s, iv.data(), aad, sealed, nullptr));
  }
}

INSTANTIATE_TEST_SUITE_P(Transforms, AeadEquality,
                         ::testing::Values(Transform::aes_gcm_128, Transform::aes_gcm_256,
                                           Transform::chacha20_poly1305),
                         [](const auto& p) { return transform_id(p.param); });

class CbcEquality : public ::testing::TestWithParam<Transform> {};

TEST_P(CbcEquality, SameCiphertextAndCrossDecrypt) {
  const Transform t = GetParam();
  std::mt19937_64 rng(0x636263 + static_cast<int>(t));
  ThreadContext thread;
  const auto key = random_bytes(rng, transform_info(t).cipher_key_len);
  auto a = make_session(Backend::ipsec_mb, t, key, {}, random_bytes(rng, 32));
  auto b = make_session(Backend::openssl, t, key, {}, random_bytes(rng, 32));
  ASSERT_TRUE(a && b);
  for (uint32_t len : lengths(16)) {
    if (len == 0) {
      continue;
    }
    SCOPED_TRACE("length " + std::to_string(len));
    const auto iv = random_bytes(rng, 16);
    const auto pt = random_bytes(rng, len);
    Buffer ca(pt, len / 16 % 5);
    Buffer cb(pt, 0);
    a->cbc_encrypt(thread, iv.data(), ca.data, ca.len);
    b->cbc_encrypt(thread, iv.data(), cb.data, cb.len);
    ASSERT_EQ(to_hex(ca.bytes()), to_hex(cb.bytes()));
    ASSERT_NE(ca.bytes(), pt);
    a->cbc_decrypt(thread, iv.data(), cb.data, cb.len);
    b->cbc_decrypt(thread, iv.data(), ca.data, ca.len);
    ASSERT_EQ(ca.bytes(), pt);
    ASSERT_EQ(cb.bytes(), pt);
  }
}

TEST_P(CbcEquality, SameHmacForEveryLengthAndKeySize) {
  const Transform t = GetParam();
  std::mt19937_64 rng(0x686d6163 + static_cast<int>(t));
  ThreadContext thread;
  const auto key = random_bytes(rng, transform_info(t).cipher_key_len);
  for (size_t auth_len : {32u, 1u, 64u, 65u, 131u}) {
    SCOPED_TRACE("auth key length " + std::to_string(auth_len));
    const auto auth_key = random_bytes(rng, auth_len);
    auto a = make_session(Backend::ipsec_mb, t, key, {}, auth_key);
    auto b = make_session(Backend::openssl, t, key, {}, auth_key);
    ASSERT_TRUE(a && b);
    for (uint32_t len : lengths(auth_len == 32 ? 1 : 13)) {
      SCOPED_TRACE("length " + std::to_string(len));
      const Buffer msg(random_bytes(rng, len), len % 3);
      uint8_t reference[32];
      size_t reference_len = 0;
      ASSERT_NE(
          EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, auth_key.data(), auth_key.size(),
                    msg.data, msg.len, reference, sizeof reference, &reference_len),
          nullptr);
      for (uint32_t out_len : {32u, 16u, 12u}) {
        uint8_t ma[32] = {};
        uint8_t mb[32] = {};
        a->hmac(thread, msg.data, msg.len, ma, out_len);
        b->hmac(thread, msg.data, msg.len, mb, out_len);
        ASSERT_EQ(to_hex(ma, out_len), to_hex(reference, out_len)) << "ipsec-mb " << out_len;
        ASSERT_EQ(to_hex(mb, out_len), to_hex(reference, out_len)) << "openssl " << out_len;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transforms, CbcEquality,
                         ::testing::Values(Transform::aes_cbc_128_hmac_sha256_128,
                                           Transform::aes_cbc_256_hmac_sha256_128),
                         [](const auto& p) { return transform_id(p.param); });

}  // namespace
}  // namespace traverse::crypto::test
