// SkCipher: round trips, tampering and truncation, and interoperation both
// ways with Python's `cryptography` package (AESGCM, ChaCha20Poly1305, AES-CBC
// with hmac) as an independent implementation of RFC 7296 3.14 / RFC 5282.
#include "control/ike/crypto/sk_cipher.hh"

#include <gtest/gtest.h>

#include <set>

#include "control/ike/crypto/key_material.hh"
#include "control/ike/crypto/test_support.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::to_hex;

struct Suite {
  const char* name;
  uint16_t encr, bits, integ;
};
constexpr Suite kSuites[] = {
    {"aes128cbc-sha256", kEncrAesCbc, 128, kAuthHmacSha2_256_128},
    {"aes192cbc-sha384", kEncrAesCbc, 192, kAuthHmacSha2_384_192},
    {"aes256cbc-sha512", kEncrAesCbc, 256, kAuthHmacSha2_512_256},
    {"aes128gcm", kEncrAesGcm16, 128, kIntegNone},
    {"aes256gcm", kEncrAesGcm16, 256, kIntegNone},
    {"chacha20poly1305", kEncrChacha20Poly1305, 0, kIntegNone},
};

Bytes pattern(std::size_t size, uint8_t seed) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint8_t>(seed + 17 * i);
  return out;
}

struct Keys {
  Bytes encr, integ;
};
Keys keys_for(const Suite& s) {
  return {pattern(*encr_key_length(s.encr, s.bits), 0x11),
          pattern(*integ_key_length(s.integ), 0x77)};
}

SkCipher make(const Suite& s) {
  const Keys k = keys_for(s);
  auto sk = SkCipher::create(s.encr, s.bits, s.integ, k.encr, k.integ);
  if (!sk)
    throw std::runtime_error(std::string("cannot create ") + s.name);
  return std::move(*sk);
}

Bytes seal(const SkCipher& sk, ByteView prefix, ByteView plaintext) {
  Bytes body(sk.body_length(plaintext.size()));
  if (!sk.seal(prefix, plaintext, body))
    throw std::runtime_error("seal failed");
  return body;
}

class SkCipherSuite : public ::testing::TestWithParam<Suite> {};

TEST_P(SkCipherSuite, RoundTripsAtManySizes) {
  const SkCipher sk = make(GetParam());
  const Bytes prefix = pattern(32, 3);  // IKE header + SK generic header
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 70; ++n)
    sizes.push_back(n);
  for (std::size_t n : {127, 128, 129, 255, 256, 1000, 1400, 4096, 65000})
    sizes.push_back(n);
  for (std::size_t n : sizes) {
    const Bytes plaintext = pattern(n, static_cast<uint8_t>(n));
    const Bytes body = seal(sk, prefix, plaintext);
    EXPECT_EQ(body.size(), sk.body_length(n));
    EXPECT_EQ((body.size() - sk.iv_size() - sk.icv_size()) % (GetParam().integ ? 16 : 1), 0u);
    auto opened = sk.open(prefix, body);
    ASSERT_TRUE(opened) << n << ": " << opened.error();
    EXPECT_EQ(*opened, plaintext) << n;
  }
}

TEST_P(SkCipherSuite, RejectsEveryBitFlip) {
  const SkCipher sk = make(GetParam());
  const Bytes prefix = pattern(28, 5);
  const Bytes plaintext = pattern(40, 9);
  const Bytes body = seal(sk, prefix, plaintext);
  for (std::size_t byte = 0; byte < prefix.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = prefix;
      bad[byte] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_FALSE(sk.open(bad, body)) << "prefix " << byte << "." << bit;
    }
  }
  for (std::size_t byte = 0; byte < body.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = body;
      bad[byte] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_FALSE(sk.open(prefix, bad)) << "body " << byte << "." << bit;
    }
  }
  ASSERT_TRUE(sk.open(prefix, body));
}

TEST_P(SkCipherSuite, RejectsTruncationsAndExtensions) {
  const SkCipher sk = make(GetParam());
  const Bytes prefix = pattern(28, 5);
  const Bytes body = seal(sk, prefix, pattern(50, 1));
  for (std::size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(sk.open(prefix, ByteView(body).first(n))) << n;
    EXPECT_FALSE(sk.open(prefix, ByteView(body).last(n))) << n;
  }
  Bytes longer = body;
  longer.push_back(0);
  EXPECT_FALSE(sk.open(prefix, longer));
  EXPECT_FALSE(sk.open(prefix, {}));
  EXPECT_FALSE(sk.open(ByteView(prefix).first(27), body));
}

TEST_P(SkCipherSuite, SealChecksTheOutputSize) {
  const SkCipher sk = make(GetParam());
  const Bytes plaintext = pattern(20, 2);
  const std::size_t exact = sk.body_length(plaintext.size());
  ASSERT_GT(exact, 1u);
  Bytes longer(exact + 1), shorter(exact - 1);
  EXPECT_FALSE(sk.seal({}, plaintext, longer));
  EXPECT_FALSE(sk.seal({}, plaintext, shorter));
  EXPECT_EQ(sk.body_length(std::size_t{1} << 30), 0u);
}

TEST_P(SkCipherSuite, IvsNeverRepeat) {
  const SkCipher sk = make(GetParam());
  std::set<Bytes> ivs;
  for (int i = 0; i < 2000; ++i) {
    const Bytes body = seal(sk, {}, Bytes{1, 2, 3});
    ivs.insert(Bytes(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(sk.iv_size())));
  }
  EXPECT_EQ(ivs.size(), 2000u);
}

// RFC 7296 3.14 / RFC 5282 / RFC 7634, written against Python's `cryptography`.
// open: decrypt our body, print the plaintext with padding stripped.
// seal: build a body with the given padding length, print it.
// raw: build a body whose padded plaintext is exactly the data given.
constexpr const char* kPythonSk = R"(
import hmac, hashlib, os, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
op, encr, integ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key, ikey, prefix, data = (bytes.fromhex(v) for v in sys.argv[4:8])
pad = int(sys.argv[8])
H = {12: (hashlib.sha256, 16), 13: (hashlib.sha384, 24), 14: (hashlib.sha512, 32)}
def aead(k):
    return AESGCM(k) if encr == 20 else ChaCha20Poly1305(k)
if op == 'open':
    if encr == 12:
        h, t = H[integ]
        iv, ct, icv = data[:16], data[16:-t], data[-t:]
        assert hmac.compare_digest(hmac.new(ikey, prefix + data[:-t], h).digest()[:t], icv)
        d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        p = d.update(ct) + d.finalize()
    else:
        nonce = key[-4:] + data[:8]
        p = aead(key[:-4]).decrypt(nonce, data[8:], prefix)
    print(p[:len(p) - 1 - p[-1]].hex())
else:
    padded = data + bytes([0x5a] * pad) + bytes([pad]) if op == 'seal' else data
    if encr == 12:
        h, t = H[integ]
        iv = os.urandom(16)
        e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        body = iv + e.update(padded) + e.finalize()
        print((body + hmac.new(ikey, prefix + body, h).digest()[:t]).hex())
    else:
        iv = os.urandom(8)
        print((iv + aead(key[:-4]).encrypt(key[-4:] + iv, padded, prefix)).hex())
)";

std::string python_sk(const std::string& op, const Suite& s, const Keys& k, ByteView prefix,
                      ByteView data, std::size_t pad) {
  return testing::run_python(kPythonSk,
                             {op, std::to_string(s.encr), std::to_string(s.integ), to_hex(k.encr),
                              to_hex(k.integ), to_hex(prefix), to_hex(data), std::to_string(pad)});
}

TEST_P(SkCipherSuite, InteroperatesWithPythonCryptography) {
  const Suite& s = GetParam();
  const Keys k = keys_for(s);
  const SkCipher sk = make(s);
  const Bytes prefix = pattern(32, 0x21);
  for (std::size_t n : {0, 15, 33, 300}) {
    const Bytes plaintext = pattern(n, 0x42);
    // Ours -> Python.
    EXPECT_EQ(python_sk("open", s, k, prefix, seal(sk, prefix, plaintext), 0), to_hex(plaintext))
        << s.name << " " << n;
    // Python -> ours, with padding that fills the block (CBC) or any amount
    // (AEAD: a receiver accepts padding it would not send itself).
    const std::size_t pad = s.integ ? (32 - (n + 1) % 16) % 16 + 16 : 7;
    const std::string theirs = python_sk("seal", s, k, prefix, plaintext, pad);
    auto opened = sk.open(prefix, from_hex(theirs));
    ASSERT_TRUE(opened) << s.name << " " << n << ": " << opened.error();
    EXPECT_EQ(*opened, plaintext) << s.name << " " << n;
  }
}

TEST_P(SkCipherSuite, RejectsPadLengthBeyondThePlaintext) {
  const Suite& s = GetParam();
  const Keys k = keys_for(s);
  const SkCipher sk = make(s);
  const Bytes prefix = pattern(32, 0x21);
  // Authentic bodies (Python seals them as given, "raw") whose pad length
  // octet claims more padding than there is.
  for (std::size_t size : {std::size_t{32}}) {
    for (uint8_t claimed : {static_cast<uint8_t>(size), uint8_t{0xff}}) {
      Bytes padded(size, 0);
      padded.back() = claimed;
      auto opened = sk.open(prefix, from_hex(python_sk("raw", s, k, prefix, padded, 0)));
      EXPECT_FALSE(opened) << s.name << " size " << size << " claimed " << int{claimed};
    }
    // The largest valid claim: everything before the octet is padding.
    Bytes padded(size, 0);
    padded.back() = static_cast<uint8_t>(size - 1);
    auto opened = sk.open(prefix, from_hex(python_sk("raw", s, k, prefix, padded, 0)));
    ASSERT_TRUE(opened) << opened.error();
    EXPECT_TRUE(opened->empty());
  }
}

INSTANTIATE_TEST_SUITE_P(All, SkCipherSuite, ::testing::ValuesIn(kSuites),
                         [](const auto& suite_info) {
                           std::string name = suite_info.param.name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           }
                           return name;
                         });

TEST(SkCipher, CreateRejectsBadParameters) {
  const Bytes k16(16, 1), k20(20, 1), k32(32, 1), k36(36, 1), k48(48, 1);
  EXPECT_TRUE(SkCipher::create(kEncrAesCbc, 128, kAuthHmacSha2_256_128, k16, k32));
  EXPECT_FALSE(SkCipher::create(kEncrAesCbc, 128, kAuthHmacSha2_256_128, k20, k32));
  EXPECT_FALSE(SkCipher::create(kEncrAesCbc, 128, kAuthHmacSha2_256_128, k16, k48));
  EXPECT_FALSE(SkCipher::create(kEncrAesCbc, 128, kIntegNone, k16, {}));
  EXPECT_FALSE(SkCipher::create(kEncrAesCbc, 64, kAuthHmacSha2_256_128, Bytes(8, 1), k32));
  EXPECT_TRUE(SkCipher::create(kEncrAesGcm16, 128, kIntegNone, k20, {}));
  EXPECT_FALSE(SkCipher::create(kEncrAesGcm16, 128, kIntegNone, k16, {}));
  EXPECT_FALSE(SkCipher::create(kEncrAesGcm16, 128, kAuthHmacSha2_256_128, k20, k32));
  EXPECT_TRUE(SkCipher::create(kEncrChacha20Poly1305, 0, kIntegNone, k36, {}));
  EXPECT_FALSE(SkCipher::create(kEncrChacha20Poly1305, 128, kIntegNone, k36, {}));
  EXPECT_FALSE(SkCipher::create(3, 192, kAuthHmacSha2_256_128, Bytes(24, 1), k32));
  EXPECT_FALSE(SkCipher::create(kEncrAesCbc, 128, 2, k16, Bytes(20, 1)));
}

TEST(SkCipher, DifferentKeysDoNotOpen) {
  const Bytes prefix = pattern(32, 1);
  auto a = SkCipher::create(kEncrAesGcm16, 256, kIntegNone, pattern(36, 1), {});
  auto b = SkCipher::create(kEncrAesGcm16, 256, kIntegNone, pattern(36, 2), {});
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(b->open(prefix, seal(*a, prefix, pattern(10, 3))));
  SkCipher moved = std::move(*a);
  EXPECT_TRUE(moved.open(prefix, seal(moved, prefix, pattern(10, 3))));
}

}  // namespace
}  // namespace traverse::ike
