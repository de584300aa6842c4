// Sequence numbers end to end: 32-bit SAs refuse to wrap, ESN SAs cross 2^32
// with the high half inferred by the receiver, and a packet whose ICV fails
// does not move the window.
#include <gtest/gtest.h>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/test_packets.hh"

namespace traverse::esp {
namespace {

using crypto::Backend;
using crypto::Transform;
using testing::TestPacket;

struct Pair {
  std::unique_ptr<OutboundSa> out;
  std::unique_ptr<InboundSa> in;
};

Pair make_pair(Transform t, bool esn, uint64_t first, uint32_t window, std::mt19937& rng) {
  SaConfig config = testing::make_sa_config(t, Backend::ipsec_mb, 4, true, rng);
  config.esn = esn;
  config.first_sequence = first;
  config.replay_window = window;
  std::string error;
  Pair p{OutboundSa::create(config, &error), InboundSa::create(testing::mirror(config), &error)};
  EXPECT_TRUE(p.out && p.in) << error;
  return p;
}

TEST(Sequence, ThirtyTwoBitSaRefusesToWrap) {
  std::mt19937 rng(1);
  crypto::ThreadContext thread;
  Pair sa = make_pair(Transform::aes_gcm_128, false, 0xfffffffeu, 64, rng);
  const std::vector<uint8_t> inner = testing::make_inner_packet(4, 64, rng);
  for (uint64_t expect : {0xfffffffeull, 0xffffffffull}) {
    TestPacket pkt(inner);
    ASSERT_EQ(sa.out->encrypt(thread, pkt.view), Status::ok);
    EXPECT_EQ(load_be32(pkt.view.data() + 32), static_cast<uint32_t>(expect));
  }
  EXPECT_EQ(sa.out->sequence_remaining(), 0u);
  TestPacket pkt(inner);
  EXPECT_EQ(sa.out->encrypt(thread, pkt.view), Status::sequence_exhausted);
  EXPECT_EQ(pkt.bytes(), inner) << "refused packet untouched";
  EXPECT_EQ(sa.out->encrypt(thread, pkt.view), Status::sequence_exhausted) << "stays refused";
}

// With ESN the counter must stop before wrapping to zero: a wrap would repeat
// AEAD nonces (the explicit IV is the sequence number).
TEST(Sequence, EsnSaRefusesToWrapTheSixtyFourBitCounter) {
  std::mt19937 rng(11);
  crypto::ThreadContext thread;
  Pair sa = make_pair(Transform::aes_gcm_128, true, UINT64_MAX - 2, 64, rng);
  const std::vector<uint8_t> inner = testing::make_inner_packet(4, 64, rng);
  for (int i = 0; i < 2; ++i) {
    TestPacket pkt(inner);
    ASSERT_EQ(sa.out->encrypt(thread, pkt.view), Status::ok);
  }
  EXPECT_EQ(sa.out->sequence_remaining(), 0u);
  TestPacket pkt(inner);
  EXPECT_EQ(sa.out->encrypt(thread, pkt.view), Status::sequence_exhausted);
  EXPECT_EQ(sa.out->next_sequence(), UINT64_MAX);
  EXPECT_EQ(pkt.bytes(), inner);
}

class EsnRollover : public ::testing::TestWithParam<std::tuple<Transform, uint32_t>> {};

TEST_P(EsnRollover, CrossesTwoToTheThirtyTwo) {
  const auto [transform, window] = GetParam();
  std::mt19937 rng(2);
  crypto::ThreadContext thread;
  const uint64_t start = (uint64_t{1} << 32) - 20;
  Pair sa = make_pair(transform, true, start, window, rng);
  sa.in->replay_window().reset(start - 1);
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 40; ++i) {
    TestPacket pkt(testing::make_inner_packet(6, 90, rng));
    ASSERT_EQ(sa.out->encrypt(thread, pkt.view), Status::ok);
    sent.push_back(pkt.bytes());
  }
  // Deliver out of order: every even packet first, then the odd ones late,
  // including late packets from before the rollover after the window moved
  // past 2^32. The receiver must infer the right high half for each.
  auto deliver = [&](size_t i) {
    TestPacket pkt(sent[i]);
    DecryptResult result;
    const Status s = sa.in->decrypt(thread, pkt.view, &result);
    EXPECT_EQ(s, Status::ok) << "packet " << i;
    EXPECT_EQ(result.sequence, start + i) << "packet " << i;
  };
  for (size_t i = 0; i < sent.size(); i += 2) {
    deliver(i);
  }
  EXPECT_EQ(sa.in->replay_window().top(), start + 38);
  for (size_t i = 1; i < sent.size(); i += 2) {
    deliver(i);
  }
  EXPECT_EQ(sa.in->replay_window().top(), start + 39);
  // All 40 are now duplicates.
  for (const auto& wire : sent) {
    TestPacket pkt(wire);
    DecryptResult result;
    EXPECT_EQ(sa.in->decrypt(thread, pkt.view, &result), Status::replay_duplicate);
  }
}

INSTANTIATE_TEST_SUITE_P(
    TransformsAndWindows, EsnRollover,
    ::testing::Combine(::testing::Values(Transform::aes_gcm_256,
                                         Transform::aes_cbc_128_hmac_sha256_128,
                                         Transform::chacha20_poly1305),
                       ::testing::Values(32u, 64u, 1024u, 4096u)));

TEST(Sequence, TooOldAndFailedIcvDoNotMoveTheWindow) {
  std::mt19937 rng(3);
  crypto::ThreadContext thread;
  Pair sa = make_pair(Transform::aes_gcm_128, false, 1, 64, rng);
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 200; ++i) {
    TestPacket pkt(testing::make_inner_packet(4, 64, rng));
    ASSERT_EQ(sa.out->encrypt(thread, pkt.view), Status::ok);
    sent.push_back(pkt.bytes());
  }
  DecryptResult result;
  // Packet 150 arrives with a broken ICV: rejected, window unmoved.
  std::vector<uint8_t> broken = sent[149];
  broken.back() ^= 1;
  TestPacket b(broken);
  EXPECT_EQ(sa.in->decrypt(thread, b.view, &result), Status::bad_icv);
  EXPECT_EQ(sa.in->replay_window().top(), 0u);
  TestPacket good(sent[149]);
  ASSERT_EQ(sa.in->decrypt(thread, good.view, &result), Status::ok);
  EXPECT_EQ(sa.in->replay_window().top(), 150u);
  // 150 - 64 = 86 is the edge: seq 87 is inside, seq 86 is too old.
  TestPacket inside(sent[86]);
  EXPECT_EQ(sa.in->decrypt(thread, inside.view, &result), Status::ok);
  TestPacket old(sent[85]);
  EXPECT_EQ(sa.in->decrypt(thread, old.view, &result), Status::replay_too_old);
}

TEST(Sequence, WindowDisabledAcceptsReplays) {
  std::mt19937 rng(4);
  crypto::ThreadContext thread;
  Pair sa = make_pair(Transform::aes_gcm_128, false, 1, 0, rng);
  TestPacket pkt(testing::make_inner_packet(4, 64, rng));
  ASSERT_EQ(sa.out->encrypt(thread, pkt.view), Status::ok);
  const std::vector<uint8_t> wire = pkt.bytes();
  for (int i = 0; i < 3; ++i) {
    TestPacket copy(wire);
    DecryptResult result;
    EXPECT_EQ(sa.in->decrypt(thread, copy.view, &result), Status::ok);
  }
}

}  // namespace
}  // namespace traverse::esp
