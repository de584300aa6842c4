// AES-GCM known answers on both backends: NIST CAVS gcmEncryptExtIV and
// gcmDecrypt for 128- and 256-bit keys, every case with ESP's sizes (96-bit
// nonce, 128-bit tag). The nonce splits into the 4-byte salt and 8-byte IV.
#include <gtest/gtest.h>

#include <cstdio>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

struct GcmFile {
  const char* path;
  Transform transform;
  bool decrypt;  // lists forgeries (FAIL) that must be rejected
};

constexpr GcmFile kGcmFiles[] = {
    {"ciphers/AES/GCM/gcmEncryptExtIV128.rsp", Transform::aes_gcm_128, false},
    {"ciphers/AES/GCM/gcmEncryptExtIV256.rsp", Transform::aes_gcm_256, false},
    {"ciphers/AES/GCM/gcmDecrypt128.rsp", Transform::aes_gcm_128, true},
    {"ciphers/AES/GCM/gcmDecrypt256.rsp", Transform::aes_gcm_256, true},
};

bool esp_sized(const VectorCase& c) {
  auto iv = c.params.find("IVlen");
  auto tag = c.params.find("Taglen");
  return iv != c.params.end() && iv->second == "96" && tag != c.params.end() &&
         tag->second == "128";
}

class GcmKat : public ::testing::TestWithParam<Backend> {};

TEST_P(GcmKat, NistCavsVectors) {
  ThreadContext thread;
  size_t total = 0;
  for (const GcmFile& file : kGcmFiles) {
    std::vector<VectorCase> cases;
    std::string error;
    ASSERT_TRUE(load_vectors(file.path, &cases, &error)) << error;
    size_t run = 0;
    size_t rejected = 0;
    for (const VectorCase& c : cases) {
      if (!esp_sized(c)) {
        continue;
      }
      const std::string where = c.where(file.path);
      std::vector<uint8_t> key, nonce, pt, aad, ct, tag;
      ASSERT_TRUE(decode(c.get("Key"), &key) && decode(c.get("IV"), &nonce) &&
                  decode(c.get("PT"), &pt) && decode(c.get("AAD"), &aad) &&
                  decode(c.get("CT"), &ct) && decode(c.get("Tag"), &tag))
          << where;
      ASSERT_EQ(nonce.size(), 12u) << where;
      ASSERT_EQ(tag.size(), 16u) << where;
      const std::vector<uint8_t> salt(nonce.begin(), nonce.begin() + 4);
      const uint8_t* iv = nonce.data() + 4;
      auto session = make_session(GetParam(), file.transform, key, salt, {});
      ASSERT_NE(session, nullptr) << where;

      std::vector<uint8_t> data = ct;
      const bool opened = session->aead_open(thread, iv, aad.data(), aad.size(), data.data(),
                                             data.size(), tag.data());
      ++run;
      if (c.fail) {
        EXPECT_FALSE(opened) << where << ": forged tag accepted";
        ++rejected;
        continue;
      }
      ASSERT_TRUE(opened) << where;
      EXPECT_EQ(to_hex(data), to_hex(pt)) << where;

      data = pt;
      uint8_t sealed_tag[16];
      session->aead_seal(thread, iv, aad.data(), aad.size(), data.data(), data.size(), sealed_tag);
      EXPECT_EQ(to_hex(data), to_hex(ct)) << where;
      EXPECT_EQ(to_hex(sealed_tag, sizeof sealed_tag), to_hex(tag)) << where;
    }
    std::printf("[ vectors  ] %s on %s: %zu cases, %zu forgeries rejected\n", file.path,
                std::string(backend_name(GetParam())).c_str(), run, rejected);
    // The files hold 375 such cases each; far fewer means the parse broke.
    EXPECT_GE(run, 300u) << file.path;
    if (file.decrypt) {
      EXPECT_GE(rejected, 100u) << file.path;
    }
    total += run;
  }
  EXPECT_GT(total, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GcmKat, ::testing::ValuesIn(kAllBackends),
                         [](const auto& p) { return backend_id(p.param); });

}  // namespace
}  // namespace traverse::crypto::test
