#include "dataplane/engine/ops/mss_clamp.hh"

#include <gtest/gtest.h>

#include <random>

#include "dataplane/engine/ops/ops_test_packets.hh"

namespace traverse::engine::ops {
namespace {

using testing::Bytes;

constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;

Bytes mss_option(uint16_t mss) {
  return {2, 4, static_cast<uint8_t>(mss >> 8), static_cast<uint8_t>(mss)};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    for (uint8_t b : p) {
      out.push_back(b);
    }
  }
  return out;
}

MssClamp clamp(Bytes& pkt, uint16_t max_mss) {
  return clamp_tcp_mss(pkt.data(), static_cast<uint32_t>(pkt.size()), max_mss);
}

size_t l4_of(const Bytes& pkt) {
  return (pkt[0] >> 4) == 4 ? (pkt[0] & 15u) * 4u : 40;
}

// The TCP checksum recomputed from scratch, pseudo-header included.
bool tcp_checksum_ok(const Bytes& pkt) {
  const size_t l4 = l4_of(pkt);
  const uint32_t len = static_cast<uint32_t>(pkt.size() - l4);
  return testing::ref_sum_ok(pkt.data() + l4, len, testing::ref_pseudo_sum(pkt, 6, len));
}

// Reads the MSS option the way a receiver does (the last one wins).
int read_mss(const Bytes& pkt) {
  const size_t tcp = l4_of(pkt);
  const size_t end = tcp + static_cast<size_t>(pkt[tcp + 12] >> 4) * 4u;
  int mss = -1;
  for (size_t i = tcp + 20; i < end;) {
    if (pkt[i] == 0) {
      break;
    }
    if (pkt[i] == 1) {
      ++i;
      continue;
    }
    if (pkt[i] == 2) {
      mss = pkt[i + 2] << 8 | pkt[i + 3];
    }
    i += pkt[i + 1];
  }
  return mss;
}

TEST(MssClamp, MaxMssForMtu) {
  EXPECT_EQ(max_mss_for_mtu(1400, 4), 1360);
  EXPECT_EQ(max_mss_for_mtu(1400, 6), 1340);
  EXPECT_EQ(max_mss_for_mtu(40, 4), 0);
  EXPECT_EQ(max_mss_for_mtu(60, 6), 0);
  EXPECT_EQ(max_mss_for_mtu(41, 4), 1);
  EXPECT_EQ(max_mss_for_mtu(200000, 4), 65535);
}

TEST(MssClamp, LowersSynAndSynAckV4) {
  for (uint8_t flags : {kSyn, static_cast<uint8_t>(kSyn | kAck)}) {
    Bytes pkt = testing::tcp_v4(flags, concat({mss_option(1460), {1, 3, 3, 7, 4, 2}}), 0);
    ASSERT_TRUE(tcp_checksum_ok(pkt));
    EXPECT_EQ(clamp(pkt, 1360), MssClamp::clamped);
    EXPECT_EQ(read_mss(pkt), 1360);
    EXPECT_TRUE(tcp_checksum_ok(pkt));
  }
}

TEST(MssClamp, LowersSynV6AfterExtensionHeader) {
  Bytes pkt = testing::tcp_v6(kSyn, mss_option(1440), 0);
  EXPECT_EQ(clamp(pkt, 1340), MssClamp::clamped);
  EXPECT_EQ(read_mss(pkt), 1340);
  EXPECT_TRUE(tcp_checksum_ok(pkt));

  // The same SYN behind a hop-by-hop header (8 bytes: next 6, padding).
  Bytes tcp = testing::make_tcp(kSyn, mss_option(1440), 0);
  Bytes payload = concat({{6, 0, 1, 4, 0, 0, 0, 0}, tcp});
  Bytes hbh = testing::make_ipv6(0, testing::kHostA6, testing::kHostB6, payload);
  testing::set_l4_checksum(hbh, 48, 6);
  EXPECT_EQ(clamp_tcp_mss(hbh.data(), static_cast<uint32_t>(hbh.size()), 1340), MssClamp::clamped);
  EXPECT_EQ(hbh[48 + 22] << 8 | hbh[48 + 23], 1340);
  const uint32_t len = static_cast<uint32_t>(hbh.size() - 48);
  EXPECT_TRUE(testing::ref_sum_ok(hbh.data() + 48, len, testing::ref_pseudo_sum(hbh, 6, len)));
}

TEST(MssClamp, OddOffsetMssKeepsChecksum) {
  // One NOP puts the MSS value at an odd offset, straddling checksum words.
  Bytes pkt = testing::tcp_v4(kSyn, concat({{1}, mss_option(0xffff), {1, 1, 1}}), 11);
  ASSERT_TRUE(tcp_checksum_ok(pkt));
  EXPECT_EQ(clamp(pkt, 1234), MssClamp::clamped);
  EXPECT_EQ(read_mss(pkt), 1234);
  EXPECT_TRUE(tcp_checksum_ok(pkt));
}

TEST(MssClamp, IncrementalChecksumMatchesRecomputation) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    const Bytes nops(rng() % 8, 1);
    const uint16_t mss = static_cast<uint16_t>(rng());
    const uint16_t max_mss = static_cast<uint16_t>(rng());
    const size_t payload = rng() % 64;
    Bytes pkt = trial % 2 == 0 ? testing::tcp_v4(kSyn, concat({nops, mss_option(mss)}), payload)
                               : testing::tcp_v6(kSyn, concat({nops, mss_option(mss)}), payload);
    const MssClamp r = clamp(pkt, max_mss);
    EXPECT_EQ(r, mss > max_mss ? MssClamp::clamped : MssClamp::within_limit);
    EXPECT_EQ(read_mss(pkt), mss > max_mss ? max_mss : mss);
    ASSERT_TRUE(tcp_checksum_ok(pkt))
        << "mss " << mss << " max " << max_mss << " nops " << nops.size();
  }
}

TEST(MssClamp, EveryMssOptionLowered) {
  Bytes pkt = testing::tcp_v4(kSyn, concat({mss_option(1460), {1}, mss_option(9000)}), 0);
  EXPECT_EQ(clamp(pkt, 1300), MssClamp::clamped);
  const size_t tcp = 20;
  EXPECT_EQ(pkt[tcp + 22] << 8 | pkt[tcp + 23], 1300);
  EXPECT_EQ(pkt[tcp + 27] << 8 | pkt[tcp + 28], 1300);
  EXPECT_TRUE(tcp_checksum_ok(pkt));
}

TEST(MssClamp, LeavesOthersAlone) {
  const auto unchanged = [](Bytes pkt, uint16_t max_mss, MssClamp expected) {
    const Bytes before = pkt;
    EXPECT_EQ(clamp(pkt, max_mss), expected) << mss_clamp_name(expected);
    EXPECT_EQ(pkt, before);
  };
  unchanged(testing::tcp_v4(kSyn, mss_option(1200), 0), 1360, MssClamp::within_limit);
  unchanged(testing::tcp_v4(kSyn, mss_option(1360), 0), 1360, MssClamp::within_limit);
  unchanged(testing::tcp_v4(kAck, mss_option(1460), 0), 1360, MssClamp::not_syn);
  unchanged(testing::tcp_v4(kSyn, {1, 1, 3, 3, 7}, 0), 1360, MssClamp::no_mss_option);
  unchanged(testing::tcp_v4(kSyn, {}, 0), 1360, MssClamp::no_mss_option);
  // An MSS after end-of-options is not an option.
  unchanged(testing::tcp_v4(kSyn, concat({{0, 0, 0, 0}, mss_option(1460)}), 0), 1360,
            MssClamp::no_mss_option);
  unchanged(testing::udp_v4(200), 1360, MssClamp::not_tcp);
  unchanged(testing::udp_v6(200), 1360, MssClamp::not_tcp);

  Bytes frag = testing::tcp_v4(kSyn, mss_option(1460), 0);
  frag[6] = 0x20;  // MF
  unchanged(frag, 1360, MssClamp::fragment);
  frag[6] = 0;
  frag[7] = 1;  // offset 8
  unchanged(frag, 1360, MssClamp::fragment);
}

TEST(MssClamp, MalformedOptionsChangeNothing) {
  const auto malformed = [](const Bytes& options) {
    Bytes pkt = testing::tcp_v4(kSyn, options, 0);
    const Bytes before = pkt;
    EXPECT_EQ(clamp(pkt, 536), MssClamp::malformed_options);
    EXPECT_EQ(pkt, before);
  };
  malformed(concat({mss_option(1460), {3, 0, 0, 0}}));   // length 0 would loop forever
  malformed(concat({mss_option(1460), {3, 1, 0, 0}}));   // length 1
  malformed(concat({mss_option(1460), {1, 1, 8, 10}}));  // runs past the header
  malformed({2, 3, 5, 1});                               // MSS of length 3
  malformed({2, 6, 5, 180, 0, 0, 0, 0});                 // MSS of length 6
  malformed({1, 1, 1, 2});                               // kind with no length byte
}

TEST(MssClamp, MalformedTcpHeader) {
  Bytes pkt = testing::tcp_v4(kSyn, mss_option(1460), 0);
  pkt[20 + 12] = 0x40;  // data offset 4 words
  EXPECT_EQ(clamp(pkt, 536), MssClamp::malformed_tcp);
  pkt[20 + 12] = 0xf0;  // 60 bytes, more than the segment
  EXPECT_EQ(clamp(pkt, 536), MssClamp::malformed_tcp);
  Bytes short_tcp = testing::tcp_v4(kSyn, {}, 0);
  short_tcp.resize(30);
  short_tcp[3] = 30;  // a consistent IP length but a 10-byte "TCP header"
  EXPECT_EQ(clamp(short_tcp, 536), MssClamp::malformed_tcp);
  Bytes lying = testing::tcp_v4(kSyn, mss_option(1460), 0);
  lying[3] = static_cast<uint8_t>(lying[3] + 1);  // claims one byte more than there is
  EXPECT_EQ(clamp(lying, 536), MssClamp::malformed_ip);
}

}  // namespace
}  // namespace traverse::engine::ops
