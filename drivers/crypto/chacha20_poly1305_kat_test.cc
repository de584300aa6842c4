// ChaCha20-Poly1305 known answers on both backends: the BoringSSL and OpenSSL
// vector files (every case with ESP's 12-byte nonce and 16-byte tag; the
// OpenSSL file's CIPHERFINAL_ERROR case must be rejected) and RFC 8439
// section 2.8.2 written out.
#include <gtest/gtest.h>

#include <cstdio>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

// The two files spell the same fields differently.
struct ChachaFile {
  const char* path;
  const char* key;
  const char* nonce;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
  size_t min_cases;  // 66 and 5 today; a broken parse finds far fewer
};

constexpr ChachaFile kChachaFiles[] = {
    {"ciphers/ChaCha20Poly1305/boringssl.txt", "KEY", "NONCE", "AD", "IN", "CT", "TAG", 60},
    {"ciphers/ChaCha20Poly1305/openssl.txt", "Key", "IV", "AAD", "Plaintext", "Ciphertext", "Tag",
     5},
};

struct AeadCase {
  std::vector<uint8_t> key, nonce, aad, pt, ct, tag;
};

// Opens ct (which must verify unless `forged`) and seals pt to ct and tag.
void check_case(ThreadContext& thread, Backend backend, const AeadCase& c, bool forged,
                const std::string& where) {
  const std::vector<uint8_t> salt(c.nonce.begin(), c.nonce.begin() + 4);
  const uint8_t* iv = c.nonce.data() + 4;
  auto session = make_session(backend, Transform::chacha20_poly1305, c.key, salt, {});
  ASSERT_NE(session, nullptr) << where;
  std::vector<uint8_t> data = c.ct;
  const bool opened = session->aead_open(thread, iv, c.aad.data(), c.aad.size(), data.data(),
                                         data.size(), c.tag.data());
  if (forged) {
    EXPECT_FALSE(opened) << where << ": forged tag accepted";
    return;
  }
  ASSERT_TRUE(opened) << where;
  EXPECT_EQ(to_hex(data), to_hex(c.pt)) << where;
  data = c.pt;
  uint8_t tag[16];
  session->aead_seal(thread, iv, c.aad.data(), c.aad.size(), data.data(), data.size(), tag);
  EXPECT_EQ(to_hex(data), to_hex(c.ct)) << where;
  EXPECT_EQ(to_hex(tag, sizeof tag), to_hex(c.tag)) << where;
}

class ChachaKat : public ::testing::TestWithParam<Backend> {};

TEST_P(ChachaKat, BoringSslAndOpenSslVectors) {
  ThreadContext thread;
  for (const ChachaFile& file : kChachaFiles) {
    std::vector<VectorCase> cases;
    std::string error;
    ASSERT_TRUE(load_vectors(file.path, &cases, &error)) << error;
    size_t run = 0;
    size_t skipped = 0;
    size_t rejected = 0;
    for (const VectorCase& vc : cases) {
      const std::string where = vc.where(file.path);
      AeadCase c;
      ASSERT_TRUE(decode(vc.get(file.key), &c.key) && decode(vc.get(file.nonce), &c.nonce) &&
                  decode(vc.get(file.aad), &c.aad) && decode(vc.get(file.plaintext), &c.pt) &&
                  decode(vc.get(file.ciphertext), &c.ct) && decode(vc.get(file.tag), &c.tag))
          << where;
      if (c.key.size() != 32 || c.nonce.size() != 12 || c.tag.size() != 16 ||
          c.pt.size() != c.ct.size()) {
        ++skipped;  // not an ESP-shaped case
        continue;
      }
      const bool forged = vc.has("Result");
      if (forged) {
        ASSERT_EQ(vc.get("Result"), "CIPHERFINAL_ERROR") << where;
        ++rejected;
      }
      check_case(thread, GetParam(), c, forged, where);
      ++run;
    }
    std::printf("[ vectors  ] %s on %s: %zu cases (%zu forgeries rejected), %zu skipped\n",
                file.path, std::string(backend_name(GetParam())).c_str(), run, rejected, skipped);
    EXPECT_GE(run, file.min_cases) << file.path;
  }
}

TEST_P(ChachaKat, Rfc8439Section282) {
  ThreadContext thread;
  const std::string plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  AeadCase c;
  c.key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  c.nonce = from_hex("070000004041424344454647");
  c.aad = from_hex("50515253c0c1c2c3c4c5c6c7");
  c.pt.assign(plaintext.begin(), plaintext.end());
  c.ct = from_hex(
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116");
  c.tag = from_hex("1ae10b594f09e26a7e902ecbd0600691");
  ASSERT_EQ(c.pt.size(), 114u);
  ASSERT_EQ(c.ct.size(), 114u);
  check_case(thread, GetParam(), c, false, "RFC 8439 2.8.2");
}

INSTANTIATE_TEST_SUITE_P(Backends, ChachaKat, ::testing::ValuesIn(kAllBackends),
                         [](const auto& p) { return backend_id(p.param); });

}  // namespace
}  // namespace traverse::crypto::test
