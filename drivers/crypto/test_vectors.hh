// Test support: reads the known-answer files of python3-cryptography-vectors
// (NIST CAVS .rsp, RFC and project "KEY = value" text) at test time, and the
// helpers the crypto tests share. Not part of traverse_crypto.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/crypto/cipher_session.hh"

namespace traverse::crypto::test {

// $TRAVERSE_VECTORS_DIR, or Debian's python3-cryptography-vectors.
std::string vectors_dir();

// One test case: its "key = value" lines, the "[key = value]" parameters and
// "[NAME]" section in force where it appeared, and whether a FAIL line marked
// it. Keys keep the file's spelling (COUNT, Count).
struct VectorCase {
  std::map<std::string, std::string> fields;
  std::map<std::string, std::string> params;
  std::string section;
  bool fail = false;
  int line = 0;

  bool has(const std::string& key) const { return fields.count(key) != 0; }
  const std::string& get(const std::string& key) const;  // "" when absent
  std::string where(std::string_view file) const;        // "file:line" for messages
};

// Cases in the order the file lists them. False, with a reason, when the file
// cannot be read: a missing vector file fails the test, never skips it.
bool load_vectors(std::string_view relative_path, std::vector<VectorCase>* cases,
                  std::string* error);

// Hex ("0a1b", may be empty) or a double-quoted ASCII string, as the ChaCha20-
// Poly1305 files write some inputs. False on anything else.
bool decode(std::string_view value, std::vector<uint8_t>* out);
std::vector<uint8_t> from_hex(std::string_view hex);  // for literals in tests; asserts
std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const std::vector<uint8_t>& v) {
  return to_hex(v.data(), v.size());
}

// A session, or a test failure naming the transform, backend and reason.
std::unique_ptr<CipherSession> make_session(Backend backend, Transform transform,
                                            const std::vector<uint8_t>& cipher_key,
                                            const std::vector<uint8_t>& salt,
                                            const std::vector<uint8_t>& auth_key);

// For test names, which allow only letters, digits and '_'.
std::string backend_id(Backend backend);        // "ipsecmb", "openssl"
std::string transform_id(Transform transform);  // "aes128_sha256"...

}  // namespace traverse::crypto::test
