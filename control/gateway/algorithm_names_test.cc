// Transform numbers are those of the IANA "Internet Key Exchange Version 2
// (IKEv2) Parameters" registry, as listed in RFC 7296 section 3.3.2, RFC 5282
// (AES-GCM: ENCR_AES_GCM_16 = 20), RFC 7634 (ENCR_CHACHA20_POLY1305 = 28),
// RFC 4868 (PRF_HMAC_SHA2_256/384/512 = 5/6/7, AUTH_HMAC_SHA2_256_128/384_192/
// 512_256 = 12/13/14), RFC 3526 (MODP 2048 = 14, 3072 = 15), RFC 5903 (ECP 256
// = 19, 384 = 20, 521 = 21) and RFC 8031 (Curve25519 = 31).
#include "control/gateway/algorithm_names.hh"

#include <gtest/gtest.h>

namespace traverse::gateway {
namespace {

using T = AlgorithmTransform;

TEST(AlgorithmNames, AeadIkeProposal) {
  auto p = parse_ike_proposal("aes256gcm16-prfsha384-ecp384");
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->aead());
  const std::vector<T> expected = {{1, 20, 256}, {2, 6, 0}, {4, 20, 0}};
  EXPECT_EQ(p->transforms, expected);
}

TEST(AlgorithmNames, CbcIkeProposalImpliesThePrf) {
  auto p = parse_ike_proposal("aes256-sha256-modp2048");
  ASSERT_TRUE(p) << p.error();
  EXPECT_FALSE(p->aead());
  const std::vector<T> expected = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}};
  EXPECT_EQ(p->transforms, expected);
  auto two = parse_ike_proposal("aes128-sha384-sha512-ecp521");
  ASSERT_TRUE(two) << two.error();
  const std::vector<T> expected_two = {{1, 12, 128}, {2, 6, 0},  {2, 7, 0},
                                       {3, 13, 0},   {3, 14, 0}, {4, 21, 0}};
  EXPECT_EQ(two->transforms, expected_two);
}

TEST(AlgorithmNames, SeveralValuesOfOneTypeKeepTheirOrder) {
  auto p = parse_ike_proposal("aes128gcm16-aes256gcm16-prfsha256-x25519-ecp256");
  ASSERT_TRUE(p) << p.error();
  const std::vector<T> expected = {{1, 20, 128}, {1, 20, 256}, {2, 5, 0}, {4, 31, 0}, {4, 19, 0}};
  EXPECT_EQ(p->transforms, expected);
  // Written out of type order: sorted by type, stable within a type.
  auto shuffled = parse_ike_proposal("x25519-prfsha256-aes128gcm16-ecp256-aes256gcm16");
  ASSERT_TRUE(shuffled) << shuffled.error();
  EXPECT_EQ(shuffled->transforms, expected);
  EXPECT_EQ(parse_ike_proposal("aes128gcm16-prfsha256-curve25519")->transforms[2], (T{4, 31, 0}));
}

TEST(AlgorithmNames, EspProposals) {
  auto gcm = parse_esp_proposal("aes128gcm16");
  ASSERT_TRUE(gcm) << gcm.error();
  const std::vector<T> expected = {{1, 20, 128}, {5, 0, 0}};  // noesn by default
  EXPECT_EQ(gcm->transforms, expected);
  auto cbc = parse_esp_proposal("aes256-sha256-esn-noesn");
  ASSERT_TRUE(cbc) << cbc.error();
  const std::vector<T> expected_cbc = {{1, 12, 256}, {3, 12, 0}, {5, 1, 0}, {5, 0, 0}};
  EXPECT_EQ(cbc->transforms, expected_cbc);
  auto pfs = parse_esp_proposal("chacha20poly1305-x25519");
  ASSERT_TRUE(pfs) << pfs.error();
  const std::vector<T> expected_pfs = {{1, 28, 256}, {4, 31, 0}, {5, 0, 0}};
  EXPECT_EQ(pfs->transforms, expected_pfs);
}

TEST(AlgorithmNames, RoundTripsThroughText) {
  for (const char* text : {"aes256gcm16-prfsha384-ecp384", "aes128gcm16-prfsha256-x25519",
                           "aes256-sha256-modp2048", "aes128-aes256-sha512-modp3072-ecp256"}) {
    auto p = parse_ike_proposal(text);
    ASSERT_TRUE(p) << text;
    auto again = parse_ike_proposal(proposal_to_string(*p));
    ASSERT_TRUE(again) << proposal_to_string(*p);
    EXPECT_EQ(again->transforms, p->transforms);
  }
  EXPECT_EQ(proposal_to_string(*parse_ike_proposal("aes256-sha256-modp2048")),
            "aes256-prfsha256-sha256-modp2048");
  EXPECT_EQ(proposal_to_string(*parse_esp_proposal("aes128gcm16-esn")), "aes128gcm16-esn");
}

void expect_error(const Expected<AlgorithmProposal, std::string>& result, const char* needle) {
  ASSERT_FALSE(result) << "accepted; expected an error containing " << needle;
  EXPECT_NE(result.error().find(needle), std::string::npos) << result.error();
}

TEST(AlgorithmNames, BadTokensAndMissingParts) {
  expect_error(parse_ike_proposal(""), "empty");
  expect_error(parse_ike_proposal("aes128-sha256-modp1024"), "unknown algorithm 'modp1024'");
  expect_error(parse_ike_proposal("aes128--sha256-modp2048"), "stray '-'");
  expect_error(parse_ike_proposal("aes128-sha256-modp2048-"), "stray '-'");
  expect_error(parse_ike_proposal("-aes128-sha256-modp2048"), "stray '-'");
  expect_error(parse_ike_proposal("aes128-aes128-sha256-x25519"), "listed twice");
  expect_error(parse_ike_proposal("sha256-prfsha256-x25519"), "no encryption");
  expect_error(parse_ike_proposal("aes128-prfsha256-x25519"), "no integrity");
  expect_error(parse_ike_proposal("aes128gcm16-x25519"), "explicit PRF");
  expect_error(parse_ike_proposal("aes128gcm16-prfsha256"), "no DH group");
  expect_error(parse_ike_proposal("aes128gcm16-sha256-prfsha256-x25519"), "no integrity algorithm");
  expect_error(parse_ike_proposal("aes128gcm16-aes128-sha256-prfsha256-x25519"), "AEAD and non");
  expect_error(parse_ike_proposal("aes128gcm16-prfsha256-x25519-esn"), "ESP proposals only");
  expect_error(parse_esp_proposal("aes128-sha384"), "not implemented by the dataplane");
  expect_error(parse_esp_proposal("aes128"), "no integrity");
  expect_error(parse_esp_proposal("aes128gcm16-prfsha256"), "IKE proposals only");
  expect_error(parse_esp_proposal(std::string(300, 'a')), "too long");
  expect_error(parse_esp_proposal(std::string("aes128gcm16\0", 12)), "unknown algorithm");
}

}  // namespace
}  // namespace traverse::gateway
