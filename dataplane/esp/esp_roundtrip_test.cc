// Encrypt -> decrypt round trips through the ESP core for every transform,
// backend, IP version combination and encapsulation, checking the wire format
// of what encrypt() builds; and the two crypto backends agree byte for byte
// on every size up to 9000.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/test_packets.hh"

namespace traverse::esp {
namespace {

using crypto::Backend;
using crypto::Transform;
using testing::TestPacket;

struct RoundTripCase {
  Transform transform;
  Backend backend;
  uint8_t outer_version;
  uint8_t inner_version;
  bool udp;
  bool esn;
};

std::string case_name(const ::testing::TestParamInfo<RoundTripCase>& info) {
  const RoundTripCase& c = info.param;
  std::string name = testing::identifier(c.transform);
  name += c.backend == Backend::ipsec_mb ? "_ipsecmb" : "_openssl";
  name += "_out" + std::to_string(c.outer_version) + "_in" + std::to_string(c.inner_version);
  name += c.udp ? "_udp" : "_esp";
  name += c.esn ? "_esn" : "";
  return name;
}

std::vector<RoundTripCase> all_cases() {
  std::vector<RoundTripCase> cases;
  for (Transform t : crypto::kAllTransforms) {
    for (Backend b : crypto::kAllBackends) {
      for (uint8_t outer : {4, 6}) {
        for (uint8_t inner : {4, 6}) {
          for (bool udp : {false, true}) {
            for (bool esn : {false, true}) {
              cases.push_back({t, b, outer, inner, udp, esn});
            }
          }
        }
      }
    }
  }
  return cases;
}

class EspRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

// Checks the outer headers encrypt() wrote against the SA's config.
void expect_outer_format(const std::vector<uint8_t>& out, const SaConfig& config,
                         uint32_t expected_seq_low) {
  const crypto::TransformInfo info = crypto::transform_info(config.transform);
  uint32_t l4 = 0;
  if (config.local.version == 4) {
    ASSERT_EQ(out[0], 0x45);
    EXPECT_EQ(load_be16(&out[2]), out.size());
    EXPECT_EQ(checksum(out.data(), 20), 0) << "IPv4 header checksum";
    EXPECT_EQ(out[6] & 0x40, 0x40) << "DF set by default";
    EXPECT_EQ(out[8], config.ttl);
    EXPECT_EQ(out[9], config.udp_encap ? 17 : 50);
    EXPECT_EQ(0, memcmp(&out[12], config.local.bytes.data(), 4));
    EXPECT_EQ(0, memcmp(&out[16], config.remote.bytes.data(), 4));
    l4 = 20;
  } else {
    ASSERT_EQ(out[0] >> 4, 6);
    EXPECT_EQ(load_be16(&out[4]) + 40u, out.size());
    EXPECT_EQ(out[6], config.udp_encap ? 17 : 50);
    EXPECT_EQ(0, memcmp(&out[8], config.local.bytes.data(), 16));
    EXPECT_EQ(0, memcmp(&out[24], config.remote.bytes.data(), 16));
    l4 = 40;
  }
  uint32_t esp = l4;
  if (config.udp_encap) {
    EXPECT_EQ(load_be16(&out[l4]), config.local_port);
    EXPECT_EQ(load_be16(&out[l4 + 2]), config.remote_port);
    EXPECT_EQ(load_be16(&out[l4 + 4]), out.size() - l4);
    if (config.local.version == 4) {
      EXPECT_EQ(load_be16(&out[l4 + 6]), 0) << "RFC 3948: zero UDP checksum over IPv4";
    } else {
      // Verify the UDP checksum over the pseudo-header independently.
      std::vector<uint8_t> pseudo(&out[8], &out[40]);
      pseudo.resize(40, 0);
      store_be32(&pseudo[32], static_cast<uint32_t>(out.size() - l4));
      pseudo[39] = 17;
      uint32_t sum = checksum_partial(pseudo.data(), 40);
      sum = checksum_partial(&out[l4], static_cast<uint32_t>(out.size() - l4), sum);
      EXPECT_EQ(checksum_finish(sum), 0) << "IPv6 UDP checksum";
    }
    esp += 8;
  }
  EXPECT_EQ(load_be32(&out[esp]), config.spi);
  EXPECT_EQ(load_be32(&out[esp + 4]), expected_seq_low);
  const uint32_t ciphertext =
      static_cast<uint32_t>(out.size()) - esp - 8 - info.iv_len - info.icv_len;
  EXPECT_EQ(ciphertext % info.block_size, 0u);
}

TEST_P(EspRoundTrip, EncryptThenDecryptGivesTheInnerPacketBack) {
  const RoundTripCase& c = GetParam();
  std::mt19937 rng(1234);
  SaConfig config = testing::make_sa_config(c.transform, c.backend, c.outer_version, c.udp, rng);
  config.esn = c.esn;
  if (c.esn) {
    config.first_sequence = (uint64_t{7} << 32) + 1;  // high half in use: ESN matters
  }
  std::string error;
  auto out_sa = OutboundSa::create(config, &error);
  ASSERT_TRUE(out_sa) << error;
  auto in_sa = InboundSa::create(testing::mirror(config), &error);
  ASSERT_TRUE(in_sa) << error;
  if (c.esn) {
    in_sa->replay_window().reset(config.first_sequence - 1);
  }
  crypto::ThreadContext thread;

  const uint32_t min_len = c.inner_version == 4 ? 28 : 48;
  uint64_t seq = config.first_sequence;
  for (uint32_t len : {min_len, min_len + 1, min_len + 2, min_len + 3, 64u, 100u, 512u, 1000u,
                       1420u, 1500u, 4000u, 9000u}) {
    SCOPED_TRACE("inner length " + std::to_string(len));
    const std::vector<uint8_t> inner = testing::make_inner_packet(c.inner_version, len, rng);
    TestPacket pkt(inner);
    ASSERT_EQ(out_sa->encrypt(thread, pkt.view), Status::ok);
    const std::vector<uint8_t> wire = pkt.bytes();
    EXPECT_EQ(wire.size(), len + out_sa->headroom() + out_sa->tailroom_for(len));
    expect_outer_format(wire, config, static_cast<uint32_t>(seq));

    DecryptResult result;
    ASSERT_EQ(in_sa->decrypt(thread, pkt.view, &result), Status::ok);
    EXPECT_EQ(result.inner_version, c.inner_version);
    EXPECT_EQ(result.sequence, seq);
    EXPECT_EQ(pkt.bytes(), inner);
    EXPECT_EQ(in_sa->replay_window().top(), seq);

    // The same wire bytes again are a replay, and change nothing.
    TestPacket again(wire);
    EXPECT_EQ(in_sa->decrypt(thread, again.view, &result), Status::replay_duplicate);
    EXPECT_EQ(again.bytes(), wire);
    ++seq;
  }
  EXPECT_EQ(out_sa->next_sequence(), seq);
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, EspRoundTrip, ::testing::ValuesIn(all_cases()),
                         case_name);

class BackendAgreement : public ::testing::TestWithParam<Transform> {};

// Both drivers must produce the same ESP packet for the same SA and input, for
// every size from the smallest IPv4 packet to 9000 bytes, and each decrypts
// the other's output.
TEST_P(BackendAgreement, IdenticalOutputForEverySize) {
  std::mt19937 rng(99);
  SaConfig config = testing::make_sa_config(GetParam(), Backend::ipsec_mb, 4, false, rng);
  config.replay_window = 4096;
  SaConfig reference = config;
  reference.backend = Backend::openssl;
  std::string error;
  auto fast_out = OutboundSa::create(config, &error);
  auto ref_out = OutboundSa::create(reference, &error);
  auto fast_in = InboundSa::create(testing::mirror(config), &error);
  auto ref_in = InboundSa::create(testing::mirror(reference), &error);
  ASSERT_TRUE(fast_out && ref_out && fast_in && ref_in) << error;
  crypto::ThreadContext thread;

  uint32_t compared = 0;
  for (uint32_t len = 28; len <= 9000; ++len) {
    const std::vector<uint8_t> inner = testing::make_inner_packet(4, len, rng);
    TestPacket a(inner);
    TestPacket b(inner);
    ASSERT_EQ(fast_out->encrypt(thread, a.view), Status::ok);
    ASSERT_EQ(ref_out->encrypt(thread, b.view), Status::ok);
    ASSERT_EQ(a.bytes(), b.bytes()) << "length " << len;
    DecryptResult result;
    // Cross over: each backend opens the other's packet.
    ASSERT_EQ(ref_in->decrypt(thread, a.view, &result), Status::ok) << "length " << len;
    ASSERT_EQ(fast_in->decrypt(thread, b.view, &result), Status::ok) << "length " << len;
    ASSERT_EQ(a.bytes(), inner);
    ASSERT_EQ(b.bytes(), inner);
    ++compared;
  }
  EXPECT_EQ(compared, 9000u - 28u + 1u);
}

INSTANTIATE_TEST_SUITE_P(AllTransforms, BackendAgreement,
                         ::testing::ValuesIn(crypto::kAllTransforms), [](const auto& param_info) {
                           return testing::identifier(param_info.param);
                         });

// The explicit IVs: AEAD IVs are the sequence number (unique per key, RFC 4106
// section 3.1); CBC IVs are unpredictable and never repeat.
TEST(EspIv, AeadIvIsTheSequenceAndCbcIvNeverRepeats) {
  std::mt19937 rng(5);
  crypto::ThreadContext thread;
  for (Transform t : {Transform::aes_gcm_128, Transform::aes_cbc_128_hmac_sha256_128}) {
    SaConfig config = testing::make_sa_config(t, Backend::ipsec_mb, 4, false, rng);
    std::string error;
    auto sa = OutboundSa::create(config, &error);
    ASSERT_TRUE(sa) << error;
    const crypto::TransformInfo info = crypto::transform_info(t);
    std::set<std::vector<uint8_t>> ivs;
    const std::vector<uint8_t> inner = testing::make_inner_packet(4, 100, rng);
    for (uint64_t seq = 1; seq <= 2000; ++seq) {
      TestPacket pkt(inner);
      ASSERT_EQ(sa->encrypt(thread, pkt.view), Status::ok);
      std::vector<uint8_t> iv(pkt.view.data() + 28, pkt.view.data() + 28 + info.iv_len);
      if (info.aead) {
        EXPECT_EQ(load_be64(iv.data()), seq);
      } else {
        EXPECT_NE(load_be64(iv.data()), seq);
      }
      EXPECT_TRUE(ivs.insert(iv).second) << "IV repeated at " << seq;
    }
  }
}

TEST(EspOuter, PeerMoveChangesDestinationAndPort) {
  std::mt19937 rng(6);
  SaConfig config =
      testing::make_sa_config(Transform::aes_gcm_128, Backend::ipsec_mb, 4, true, rng);
  std::string error;
  auto sa = OutboundSa::create(config, &error);
  ASSERT_TRUE(sa) << error;
  crypto::ThreadContext thread;
  sa->set_remote(*IpAddress::parse("203.0.113.9"), 40000);
  TestPacket pkt(testing::make_inner_packet(4, 60, rng));
  ASSERT_EQ(sa->encrypt(thread, pkt.view), Status::ok);
  const std::vector<uint8_t> wire = pkt.bytes();
  const uint8_t expected[4] = {203, 0, 113, 9};
  EXPECT_EQ(0, memcmp(&wire[16], expected, 4));
  EXPECT_EQ(load_be16(&wire[22]), 40000);
  EXPECT_EQ(checksum(wire.data(), 20), 0);
}

TEST(EspOuter, DfModesAndTosCopied) {
  std::mt19937 rng(7);
  crypto::ThreadContext thread;
  for (DfMode mode : {DfMode::set, DfMode::clear, DfMode::copy}) {
    for (bool inner_df : {false, true}) {
      SaConfig config =
          testing::make_sa_config(Transform::aes_gcm_128, Backend::ipsec_mb, 4, false, rng);
      config.df = mode;
      std::string error;
      auto sa = OutboundSa::create(config, &error);
      ASSERT_TRUE(sa) << error;
      std::vector<uint8_t> inner = testing::make_inner_packet(4, 80, rng);
      inner[6] = inner_df ? 0x40 : 0x00;
      inner[1] = 0xb8;  // DSCP EF
      TestPacket pkt(inner);
      ASSERT_EQ(sa->encrypt(thread, pkt.view), Status::ok);
      const bool want = mode == DfMode::set || (mode == DfMode::copy && inner_df);
      EXPECT_EQ((pkt.view.data()[6] & 0x40) != 0, want);
      EXPECT_EQ(pkt.view.data()[1], 0xb8);
      EXPECT_EQ(checksum(pkt.view.data(), 20), 0);
    }
  }
}

// The path MTU arithmetic used for ICMP "fragmentation needed" and MSS:
// the largest inner packet fits exactly, one more byte does not.
TEST(EspMtu, MaxInnerLengthIsExact) {
  std::mt19937 rng(8);
  crypto::ThreadContext thread;
  for (Transform t : crypto::kAllTransforms) {
    for (uint8_t outer : {4, 6}) {
      for (bool udp : {false, true}) {
        SaConfig config = testing::make_sa_config(t, Backend::openssl, outer, udp, rng);
        std::string error;
        auto sa = OutboundSa::create(config, &error);
        ASSERT_TRUE(sa) << error;
        for (uint32_t mtu = 576; mtu <= 1500; mtu += 7) {
          const uint32_t max = sa->max_inner_length(mtu);
          TestPacket fits(testing::make_inner_packet(4, max, rng));
          ASSERT_EQ(sa->encrypt(thread, fits.view), Status::ok);
          EXPECT_LE(fits.view.length(), mtu);
          TestPacket over(testing::make_inner_packet(4, max + 1, rng));
          ASSERT_EQ(sa->encrypt(thread, over.view), Status::ok);
          EXPECT_GT(over.view.length(), mtu) << "mtu " << mtu;
        }
      }
    }
  }
}

TEST(EspEcn, OuterCongestionMarkReachesTheInnerPacket) {
  std::mt19937 rng(9);
  crypto::ThreadContext thread;
  SaConfig config =
      testing::make_sa_config(Transform::aes_gcm_128, Backend::ipsec_mb, 4, false, rng);
  std::string error;
  auto out_sa = OutboundSa::create(config, &error);
  auto in_sa = InboundSa::create(testing::mirror(config), &error);
  ASSERT_TRUE(out_sa && in_sa) << error;
  std::vector<uint8_t> inner = testing::make_inner_packet(4, 80, rng);  // ECT(0)
  TestPacket pkt(inner);
  ASSERT_EQ(out_sa->encrypt(thread, pkt.view), Status::ok);
  std::vector<uint8_t> wire = pkt.bytes();
  EXPECT_EQ(wire[1] & 3, 2) << "ECN copied to the outer header";
  wire[1] |= 3;  // a router on the path marks congestion
  testing::fix_outer_lengths(wire);
  TestPacket marked(wire);
  DecryptResult result;
  ASSERT_EQ(in_sa->decrypt(thread, marked.view, &result), Status::ok);
  EXPECT_EQ(marked.view.data()[1] & 3, 3);
  EXPECT_EQ(checksum(marked.view.data(), 20), 0) << "inner checksum updated";

  // RFC 6040 section 4.2: CE outside a Not-ECT inner packet is dropped.
  inner[1] = 0;
  inner[10] = inner[11] = 0;
  const uint16_t sum = checksum(inner.data(), 20);
  memcpy(&inner[10], &sum, 2);
  TestPacket plain(inner);
  ASSERT_EQ(out_sa->encrypt(thread, plain.view), Status::ok);
  std::vector<uint8_t> plain_wire = plain.bytes();
  plain_wire[1] |= 3;
  testing::fix_outer_lengths(plain_wire);
  TestPacket dropped(plain_wire);
  EXPECT_EQ(in_sa->decrypt(thread, dropped.view, &result), Status::ecn_unmarkable);
}

}  // namespace
}  // namespace traverse::esp
