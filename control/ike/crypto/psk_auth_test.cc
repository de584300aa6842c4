// PSK authentication (RFC 7296 2.15) against an independent Python (hmac,
// hashlib) computation, and verification's refusals.
#include "control/ike/crypto/psk_auth.hh"

#include <gtest/gtest.h>

#include "control/ike/crypto/test_support.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;
using testing::to_hex;

constexpr const char* kPythonPsk = R"(
import hashlib, hmac, sys
h = {'5': hashlib.sha256, '6': hashlib.sha384, '7': hashlib.sha512}[sys.argv[1]]
msg, nonce, skp, idb, psk = (bytes.fromhex(v) for v in sys.argv[2:7])
octets = msg + nonce + hmac.new(skp, idb, h).digest()
auth = hmac.new(hmac.new(psk, b'Key Pad for IKEv2', h).digest(), octets, h).digest()
print(octets.hex(), auth.hex())
)";

Bytes pattern(std::size_t size, uint8_t seed) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint8_t>(seed * 3 + i);
  return out;
}

TEST(PskAuth, MatchesPython) {
  const Bytes message = pattern(300, 1);  // the side's IKE_SA_INIT message
  const Bytes nonce = pattern(32, 2);     // the peer's Nonce data
  const Bytes id_body = from_hex("02000000");
  Bytes id = id_body;
  const std::string fqdn = "gw.example.net";
  id.insert(id.end(), fqdn.begin(), fqdn.end());  // ID_FQDN
  const std::string psk_text = "correct horse battery staple";
  const ByteView psk = as_bytes(psk_text);
  for (uint16_t prf_id : {kPrfHmacSha2_256, kPrfHmacSha2_384, kPrfHmacSha2_512}) {
    auto prf = Prf::create(prf_id);
    ASSERT_TRUE(prf);
    const Bytes sk_p = pattern(prf->output_size(), 7);
    const Bytes octets = signed_octets(message, nonce, *prf, sk_p, id);
    const Secret auth = psk_auth_value(*prf, psk, octets);
    const std::string python =
        testing::run_python(kPythonPsk, {std::to_string(prf_id), to_hex(message), to_hex(nonce),
                                         to_hex(sk_p), to_hex(id), to_hex(psk)});
    EXPECT_EQ(to_hex(octets) + " " + to_hex(auth.view()), python) << prf_id;
    EXPECT_TRUE(psk_auth_verify(*prf, psk, octets, auth.view()));
  }
}

TEST(PskAuth, VerifyRefusesAnythingElse) {
  auto prf = Prf::create(kPrfHmacSha2_256);
  ASSERT_TRUE(prf);
  const Bytes psk = pattern(20, 4);
  const Bytes octets = signed_octets(pattern(100, 1), pattern(32, 2), *prf, pattern(32, 3),
                                     from_hex("01000000c0000201"));
  const Secret auth = psk_auth_value(*prf, psk, octets);
  ASSERT_EQ(auth.size(), 32u);
  ASSERT_TRUE(psk_auth_verify(*prf, psk, octets, auth.view()));
  for (std::size_t i = 0; i < auth.size(); ++i) {
    Bytes bad(auth.view().begin(), auth.view().end());
    bad[i] ^= 0x80;
    EXPECT_FALSE(psk_auth_verify(*prf, psk, octets, bad)) << i;
  }
  EXPECT_FALSE(psk_auth_verify(*prf, psk, octets, auth.view().first(31)));
  EXPECT_FALSE(psk_auth_verify(*prf, psk, octets, {}));
  EXPECT_FALSE(psk_auth_verify(*prf, {}, octets, auth.view()));
  Bytes other_psk = psk;
  other_psk[0] ^= 1;
  EXPECT_FALSE(psk_auth_verify(*prf, other_psk, octets, auth.view()));
  Bytes other_octets = octets;
  other_octets.back() ^= 1;
  EXPECT_FALSE(psk_auth_verify(*prf, psk, other_octets, auth.view()));
  // A different identity changes the signed octets' MACed ID.
  EXPECT_NE(to_hex(signed_octets(pattern(100, 1), pattern(32, 2), *prf, pattern(32, 3),
                                 from_hex("01000000c0000202"))),
            to_hex(octets));
}

}  // namespace
}  // namespace traverse::ike
