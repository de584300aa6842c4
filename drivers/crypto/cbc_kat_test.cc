// AES-CBC known answers on both backends: the NIST CAVS GFSbox, KeySbox,
// VarKey, VarTxt and MMT files for 128- and 256-bit keys, ENCRYPT and DECRYPT.
#include <gtest/gtest.h>

#include <cstdio>

#include "drivers/crypto/test_vectors.hh"

namespace traverse::crypto::test {
namespace {

struct CbcFile {
  std::string path;
  Transform transform;
};

std::vector<CbcFile> cbc_files() {
  std::vector<CbcFile> files;
  for (const char* kind : {"GFSbox", "KeySbox", "VarKey", "VarTxt", "MMT"}) {
    files.push_back({std::string("ciphers/AES/CBC/CBC") + kind + "128.rsp",
                     Transform::aes_cbc_128_hmac_sha256_128});
    files.push_back({std::string("ciphers/AES/CBC/CBC") + kind + "256.rsp",
                     Transform::aes_cbc_256_hmac_sha256_128});
  }
  return files;
}

class CbcKat : public ::testing::TestWithParam<Backend> {};

TEST_P(CbcKat, NistCavsVectors) {
  ThreadContext thread;
  const std::vector<uint8_t> auth_key(32, 0x5a);  // unused here, but a CBC session needs one
  size_t total = 0;
  for (const CbcFile& file : cbc_files()) {
    std::vector<VectorCase> cases;
    std::string error;
    ASSERT_TRUE(load_vectors(file.path, &cases, &error)) << error;
    size_t encrypted = 0;
    size_t decrypted = 0;
    for (const VectorCase& c : cases) {
      const std::string where = c.where(file.path);
      std::vector<uint8_t> key, iv, pt, ct;
      ASSERT_TRUE(decode(c.get("KEY"), &key) && decode(c.get("IV"), &iv) &&
                  decode(c.get("PLAINTEXT"), &pt) && decode(c.get("CIPHERTEXT"), &ct))
          << where;
      ASSERT_EQ(iv.size(), 16u) << where;
      ASSERT_EQ(pt.size(), ct.size()) << where;
      auto session = make_session(GetParam(), file.transform, key, {}, auth_key);
      ASSERT_NE(session, nullptr) << where;
      if (c.section == "ENCRYPT") {
        std::vector<uint8_t> data = pt;
        session->cbc_encrypt(thread, iv.data(), data.data(), data.size());
        EXPECT_EQ(to_hex(data), to_hex(ct)) << where;
        ++encrypted;
      } else {
        ASSERT_EQ(c.section, "DECRYPT") << where;
        std::vector<uint8_t> data = ct;
        session->cbc_decrypt(thread, iv.data(), data.data(), data.size());
        EXPECT_EQ(to_hex(data), to_hex(pt)) << where;
        ++decrypted;
      }
    }
    std::printf("[ vectors  ] %s on %s: %zu encrypt, %zu decrypt\n", file.path.c_str(),
                std::string(backend_name(GetParam())).c_str(), encrypted, decrypted);
    EXPECT_GE(encrypted, 5u) << file.path;
    EXPECT_GE(decrypted, 5u) << file.path;
    total += encrypted + decrypted;
  }
  EXPECT_GT(total, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CbcKat, ::testing::ValuesIn(kAllBackends),
                         [](const auto& p) { return backend_id(p.param); });

}  // namespace
}  // namespace traverse::crypto::test
