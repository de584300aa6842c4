// Key derivation: NIST CAVS SP 800-135 IKEv2 KDF values (quoted) and an
// independent Python (hmac, hashlib) computation of RFC 7296 2.14, 2.17, 2.18.
#include "control/ike/crypto/key_material.hh"

#include <gtest/gtest.h>

#include "control/ike/crypto/test_support.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::to_hex;

// RFC 7296 2.13/2.14/2.17/2.18 in Python. Arguments: mode and hex values.
constexpr const char* kPythonKdf = R"(
import hashlib, hmac, sys
H = {'5': hashlib.sha256, '6': hashlib.sha384, '7': hashlib.sha512}
def prf(d, k, m): return hmac.new(k, m, H[d]).digest()
def prf_plus(d, k, s, n):
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = prf(d, k, t + s + bytes([i])); out += t; i += 1
    return out[:n]
a = sys.argv[1:]
if a[0] == 'ike':      # prf ni nr gir spii spir total
    d, ni, nr, gir, spii, spir, n = a[1], *map(bytes.fromhex, a[2:7]), int(a[7])
    print(prf_plus(d, prf(d, ni + nr, gir), ni + nr + spii + spir, n).hex())
elif a[0] == 'rekey':  # old_prf new_prf old_skd gir ni nr spii spir total
    od, nd = a[1], a[2]
    skd, gir, ni, nr, spii, spir = map(bytes.fromhex, a[3:9])
    seed = prf(od, skd, gir + ni + nr)
    print(prf_plus(nd, seed, ni + nr + spii + spir, int(a[9])).hex())
elif a[0] == 'child':  # prf skd gir_or_empty ni nr total
    d = a[1]
    skd, gir, ni, nr = map(bytes.fromhex, a[2:6])
    print(prf_plus(d, skd, gir + ni + nr, int(a[6])).hex())
)";

std::string concat_hex(std::initializer_list<const Secret*> keys) {
  std::string out;
  for (const Secret* key : keys)
    out += to_hex(key->view());
  return out;
}

std::string ike_keys_hex(const IkeKeys& k) {
  return concat_hex({&k.d, &k.ai, &k.ar, &k.ei, &k.er, &k.pi, &k.pr});
}

Bytes pattern(std::size_t size, uint8_t seed) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint8_t>(seed + 31 * i);
  return out;
}

// NIST CAVP "SP 800-135 KDF" IKEv2 sample, HMAC-SHA-256, as reproduced in
// NSS (gtests/common/testvectors/ike-sha256-vectors.h, cases 6, 7 and 8, "these
// vectors are from this NIST samples"): Ni, Nr and SPIs of 8 octets.
constexpr const char* kCavsNi = "3f302be1abcb28e1";
constexpr const char* kCavsNr = "8c332ee006064c9b";
constexpr uint64_t kCavsSpiI = 0x40dac39e1e1a8640;
constexpr uint64_t kCavsSpiR = 0x8619a1cf9a6e4c07;
constexpr const char* kCavsGir = "0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29";
constexpr const char* kCavsGirNew =
    "25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c";
constexpr const char* kCavsSkeyseed =
    "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe";
constexpr const char* kCavsDkm =
    "0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ec"
    "e98aca531188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6"
    "cdf6854379e31be72b8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4"
    "e1c19bdcd4db14b29d98db1a74ad405c588662c14a04d0d36aa4ab55e90f8986"
    "d12d4aad";
constexpr const char* kCavsSkeyseedRekey =
    "2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398";

TEST(KeyMaterial, CavsIkev2Sha256) {
  auto prf = Prf::create(kPrfHmacSha2_256);
  ASSERT_TRUE(prf);
  const Bytes ni = from_hex(kCavsNi), nr = from_hex(kCavsNr), gir = from_hex(kCavsGir);
  EXPECT_EQ(to_hex(compute_skeyseed(*prf, ni, nr, gir).view()), kCavsSkeyseed);
  // The CAVS DKM is 132 octets: 3 * 32 for SK_d/SK_pi/SK_pr leaves 2 * 18.
  const IkeKeyLengths lengths{.encr = 10, .integ = 8, .prf = 32};
  auto keys = derive_ike_keys(*prf, ni, nr, gir, kCavsSpiI, kCavsSpiR, lengths);
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ(ike_keys_hex(*keys), kCavsDkm);
  EXPECT_EQ(to_hex(keys->d.view()), std::string(kCavsDkm).substr(0, 64));
  // SKEYSEED(rekey) = prf(SK_d, g^ir(new) | Ni | Nr), SK_d the DKM's first 32 octets.
  EXPECT_EQ(
      to_hex(compute_rekey_skeyseed(*prf, keys->d.view(), from_hex(kCavsGirNew), ni, nr).view()),
      kCavsSkeyseedRekey);
}

TEST(KeyMaterial, IkeKeysMatchPython) {
  const Bytes ni = pattern(32, 1), nr = pattern(48, 2), gir = pattern(384, 3);
  const uint64_t spi_i = 0x0123456789abcdef, spi_r = 0xfedcba9876543210;
  struct Case {
    uint16_t encr, bits, integ, prf;
  };
  for (const Case c : {Case{kEncrAesGcm16, 256, kIntegNone, kPrfHmacSha2_384},
                       Case{kEncrAesCbc, 128, kAuthHmacSha2_256_128, kPrfHmacSha2_256},
                       Case{kEncrAesCbc, 256, kAuthHmacSha2_512_256, kPrfHmacSha2_512},
                       Case{kEncrChacha20Poly1305, 0, kIntegNone, kPrfHmacSha2_256}}) {
    auto prf = Prf::create(c.prf);
    auto lengths = ike_key_lengths(c.encr, c.bits, c.integ, c.prf);
    ASSERT_TRUE(prf && lengths);
    auto keys = derive_ike_keys(*prf, ni, nr, gir, spi_i, spi_r, *lengths);
    ASSERT_TRUE(keys) << keys.error();
    EXPECT_EQ(keys->d.size(), lengths->prf);
    EXPECT_EQ(keys->ai.size(), lengths->integ);
    EXPECT_EQ(keys->er.size(), lengths->encr);
    const std::size_t total = 3 * lengths->prf + 2 * lengths->integ + 2 * lengths->encr;
    const std::string python = testing::run_python(
        kPythonKdf, {"ike", std::to_string(c.prf), to_hex(ni), to_hex(nr), to_hex(gir),
                     "0123456789abcdef", "fedcba9876543210", std::to_string(total)});
    EXPECT_EQ(ike_keys_hex(*keys), python) << "encr " << c.encr << " prf " << c.prf;
  }
}

TEST(KeyMaterial, RekeyUsesOldPrfForSkeyseedAndNewPrfForKeys) {
  auto old_prf = Prf::create(kPrfHmacSha2_256);
  auto new_prf = Prf::create(kPrfHmacSha2_512);
  ASSERT_TRUE(old_prf && new_prf);
  const Bytes old_sk_d = pattern(32, 9), gir = pattern(65, 4), ni = pattern(32, 5),
              nr = pattern(32, 6);
  auto lengths = ike_key_lengths(kEncrAesGcm16, 128, kIntegNone, kPrfHmacSha2_512);
  ASSERT_TRUE(lengths);
  auto keys = derive_rekeyed_ike_keys(*old_prf, old_sk_d, *new_prf, gir, ni, nr, 0x1111222233334444,
                                      0x5555666677778888, *lengths);
  ASSERT_TRUE(keys) << keys.error();
  const std::size_t total = 3 * 64 + 2 * 20;
  const std::string python = testing::run_python(
      kPythonKdf, {"rekey", "5", "7", to_hex(old_sk_d), to_hex(gir), to_hex(ni), to_hex(nr),
                   "1111222233334444", "5555666677778888", std::to_string(total)});
  EXPECT_EQ(ike_keys_hex(*keys), python);
  // Rekeying always has a new key exchange (RFC 7296 2.18).
  EXPECT_FALSE(derive_rekeyed_ike_keys(*old_prf, old_sk_d, *new_prf, {}, ni, nr, 1, 2, *lengths));
  EXPECT_FALSE(derive_rekeyed_ike_keys(*old_prf, {}, *new_prf, gir, ni, nr, 1, 2, *lengths));
}

TEST(KeyMaterial, ChildKeysMatchPythonWithAndWithoutPfs) {
  auto prf = Prf::create(kPrfHmacSha2_384);
  ASSERT_TRUE(prf);
  const Bytes sk_d = pattern(48, 7), ni = pattern(32, 8), nr = pattern(40, 9),
              gir = pattern(32, 10);
  for (bool pfs : {false, true}) {
    for (auto [encr_len, integ_len] :
         {std::pair<std::size_t, std::size_t>{36, 0}, {16, 32}, {32, 64}}) {
      auto keys = derive_child_keys(*prf, sk_d, pfs ? ByteView(gir) : ByteView(), ni, nr, encr_len,
                                    integ_len);
      ASSERT_TRUE(keys) << keys.error();
      ASSERT_EQ(keys->encr_i.size(), encr_len);
      ASSERT_EQ(keys->integ_r.size(), integ_len);
      const std::string python = testing::run_python(
          kPythonKdf, {"child", "6", to_hex(sk_d), pfs ? to_hex(gir) : "", to_hex(ni), to_hex(nr),
                       std::to_string(2 * (encr_len + integ_len))});
      // Order: initiator-to-responder encryption, then integrity, then the other direction.
      EXPECT_EQ(concat_hex({&keys->encr_i, &keys->integ_i, &keys->encr_r, &keys->integ_r}), python)
          << "pfs " << pfs << " encr " << encr_len << " integ " << integ_len;
    }
  }
}

TEST(KeyMaterial, KeyLengthTable) {
  auto gcm = ike_key_lengths(kEncrAesGcm16, 256, kIntegNone, kPrfHmacSha2_256);
  ASSERT_TRUE(gcm);
  EXPECT_EQ(gcm->encr, 36u);
  EXPECT_EQ(gcm->integ, 0u);
  EXPECT_EQ(gcm->prf, 32u);
  auto cbc = ike_key_lengths(kEncrAesCbc, 128, kAuthHmacSha2_384_192, kPrfHmacSha2_512);
  ASSERT_TRUE(cbc);
  EXPECT_EQ(cbc->encr, 16u);
  EXPECT_EQ(cbc->integ, 48u);
  EXPECT_EQ(cbc->prf, 64u);
  auto chacha = ike_key_lengths(kEncrChacha20Poly1305, 0, kIntegNone, kPrfHmacSha2_384);
  ASSERT_TRUE(chacha);
  EXPECT_EQ(chacha->encr, 36u);
  EXPECT_EQ(integ_key_length(kAuthHmacSha2_512_256), 64u);
  EXPECT_EQ(encr_key_length(kEncrAesGcm16, 128), 20u);
  // Inconsistent or unknown combinations.
  EXPECT_FALSE(ike_key_lengths(kEncrAesGcm16, 256, kAuthHmacSha2_256_128, kPrfHmacSha2_256));
  EXPECT_FALSE(ike_key_lengths(kEncrAesCbc, 256, kIntegNone, kPrfHmacSha2_256));
  EXPECT_FALSE(ike_key_lengths(kEncrAesCbc, 100, kAuthHmacSha2_256_128, kPrfHmacSha2_256));
  EXPECT_FALSE(ike_key_lengths(kEncrChacha20Poly1305, 128, kIntegNone, kPrfHmacSha2_256));
  EXPECT_FALSE(ike_key_lengths(3, 0, kAuthHmacSha2_256_128, kPrfHmacSha2_256));  // 3DES
  EXPECT_FALSE(ike_key_lengths(kEncrAesCbc, 128, 2, kPrfHmacSha2_256));          // HMAC-SHA1-96
  EXPECT_FALSE(ike_key_lengths(kEncrAesCbc, 128, kAuthHmacSha2_256_128, 2));     // PRF-HMAC-SHA1
}

TEST(KeyMaterial, RejectsBadInputs) {
  auto prf = Prf::create(kPrfHmacSha2_256);
  ASSERT_TRUE(prf);
  const Bytes n = pattern(32, 1), gir = pattern(32, 2);
  const IkeKeyLengths good{.encr = 36, .integ = 0, .prf = 32};
  EXPECT_FALSE(derive_ike_keys(*prf, {}, n, gir, 1, 2, good));
  EXPECT_FALSE(derive_ike_keys(*prf, n, {}, gir, 1, 2, good));
  EXPECT_FALSE(derive_ike_keys(*prf, n, n, {}, 1, 2, good));
  // SK_d must be the PRF's size.
  EXPECT_FALSE(derive_ike_keys(*prf, n, n, gir, 1, 2, IkeKeyLengths{36, 0, 48}));
  // More than 255 prf blocks.
  EXPECT_FALSE(derive_ike_keys(*prf, n, n, gir, 1, 2, IkeKeyLengths{5000, 0, 32}));
  EXPECT_FALSE(derive_child_keys(*prf, {}, {}, n, n, 16, 32));
  EXPECT_FALSE(derive_child_keys(*prf, n, {}, n, n, 0, 0));
  EXPECT_FALSE(derive_child_keys(*prf, n, {}, n, n, 5000, 0));
}

}  // namespace
}  // namespace traverse::ike
