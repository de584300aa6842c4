#include "dataplane/engine/ops/prefragment.hh"

#include <gtest/gtest.h>

#include "dataplane/engine/ops/ops_test_packets.hh"

namespace traverse::engine::ops {
namespace {

using testing::Bytes;

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Plans and writes every fragment, checking the per-fragment rules on the way.
std::vector<Bytes> fragment(const Bytes& pkt, uint32_t mtu) {
  const FragmentPlan plan = plan_ipv4_fragments(pkt.data(), static_cast<uint32_t>(pkt.size()), mtu);
  EXPECT_EQ(plan.status, FragmentStatus::ok) << fragment_status_name(plan.status);
  std::vector<Bytes> out;
  for (uint32_t i = 0; i < plan.count; ++i) {
    Bytes f(2048, 0xee);
    const uint32_t n = write_ipv4_fragment(pkt.data(), static_cast<uint32_t>(pkt.size()), plan, i,
                                           f.data(), static_cast<uint32_t>(f.size()));
    EXPECT_NE(n, 0u);
    EXPECT_EQ(n, ipv4_fragment_length(plan, i));
    EXPECT_LE(n, mtu);
    f.resize(n);
    const size_t header = static_cast<size_t>(f[0] & 15u) * 4u;
    EXPECT_EQ(be16(&f[2]), n);
    EXPECT_TRUE(testing::ref_sum_ok(f.data(), header)) << "fragment " << i;
    EXPECT_EQ(be16(&f[4]), be16(&pkt[4])) << "ID preserved";
    EXPECT_EQ(f[6] & 0x40, 0) << "no DF";
    if (i + 1 < plan.count) {
      EXPECT_EQ((n - header) % 8, 0u) << "payload of a non-last fragment is a multiple of 8";
    }
    out.push_back(f);
  }
  EXPECT_EQ(plan_ipv4_fragments(pkt.data(), static_cast<uint32_t>(pkt.size()), mtu).count,
            out.size());
  return out;
}

TEST(Prefragment, SplitsAndReassembles) {
  const Bytes pkt = testing::udp_v4(3000);
  const std::vector<Bytes> frags = fragment(pkt, 1400);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(frags[0].size(), 1396u);  // 20 + 1376 (the largest multiple of 8 that fits)
  EXPECT_EQ(frags[1].size(), 1396u);
  EXPECT_EQ(frags[2].size(), 3000u - 2 * 1376);
  EXPECT_EQ(be16(&frags[0][6]), 0x2000);
  EXPECT_EQ(be16(&frags[1][6]), 0x2000 | 172);
  EXPECT_EQ(be16(&frags[2][6]), 344);
  EXPECT_EQ(testing::ref_reassemble_v4(frags), pkt);
}

TEST(Prefragment, ManySizes) {
  for (uint32_t len : {69u, 100u, 577u, 1281u, 1500u, 4000u, 9000u, 65535u}) {
    for (uint32_t mtu : {68u, 576u, 1280u, 1400u, 1500u}) {
      if (len <= mtu) {
        continue;
      }
      const Bytes pkt = testing::udp_v4(len);
      EXPECT_EQ(testing::ref_reassemble_v4(fragment(pkt, mtu)), pkt) << len << " at " << mtu;
    }
  }
}

TEST(Prefragment, CopiesOnlyCopiedOptions) {
  // Record route (copy flag clear) then router alert (copy flag set), EOL pad.
  const Bytes options = {7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0};
  const Bytes pkt = testing::udp_v4(2000, 0, options);
  const std::vector<Bytes> frags = fragment(pkt, 1000);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(frags[0][0], 0x48);  // all 12 option bytes in the first
  EXPECT_TRUE(std::equal(frags[0].begin() + 20, frags[0].begin() + 32, options.begin()));
  for (size_t i = 1; i < frags.size(); ++i) {
    EXPECT_EQ(frags[i][0], 0x46);  // router alert only, 4 bytes
    EXPECT_EQ(Bytes(frags[i].begin() + 20, frags[i].begin() + 24), (Bytes{0x94, 4, 0, 0}));
  }
  // The later fragments' smaller header leaves room for more payload.
  EXPECT_EQ(frags[0].size(), 32u + 968);
  EXPECT_EQ(frags[1].size(), 24u + 976);
  EXPECT_EQ(testing::ref_reassemble_v4(frags), pkt);
}

TEST(Prefragment, CopiedOptionsArePadded) {
  // A 3-byte copied option (kind 0x83, loose source route stub) and NOPs.
  const Bytes options = {1, 0x83, 3, 4};
  const Bytes pkt = testing::udp_v4(300, 0, options);
  const std::vector<Bytes> frags = fragment(pkt, 100);
  for (size_t i = 1; i < frags.size(); ++i) {
    EXPECT_EQ(Bytes(frags[i].begin() + 20, frags[i].begin() + 24), (Bytes{0x83, 3, 4, 0}));
  }
  EXPECT_EQ(testing::ref_reassemble_v4(frags), pkt);
}

TEST(Prefragment, RefragmentsFragments) {
  // A first pass at 1500 makes fragments; each is split again at 576, the
  // offsets continue and only the true last piece lacks MF.
  const Bytes pkt = testing::udp_v4(4000);
  std::vector<Bytes> all;
  for (const Bytes& f : fragment(pkt, 1500)) {
    for (const Bytes& g : fragment(f, 576)) {
      all.push_back(g);
    }
  }
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(testing::ref_reassemble_v4(all), pkt);
}

TEST(Prefragment, MinimumMtuWithLongestHeader) {
  const Bytes options(40, 1);  // NOPs: none copied
  const Bytes pkt = testing::udp_v4(200, 0, options);
  const FragmentPlan plan = plan_ipv4_fragments(pkt.data(), 200, 68);
  ASSERT_EQ(plan.status, FragmentStatus::ok);
  EXPECT_EQ(plan.first_payload, 8);
  EXPECT_EQ(plan.later_payload, 48);
  EXPECT_EQ(testing::ref_reassemble_v4(fragment(pkt, 68)), pkt);
}

TEST(Prefragment, IgnoresLinkPadding) {
  Bytes pkt = testing::udp_v4(1000);
  Bytes padded = pkt;
  padded.resize(1100, 0xaa);
  std::vector<Bytes> frags = fragment(padded, 600);
  EXPECT_EQ(testing::ref_reassemble_v4(frags), pkt);
}

TEST(Prefragment, Refusals) {
  const auto status = [](const Bytes& pkt, uint32_t mtu) {
    return plan_ipv4_fragments(pkt.data(), static_cast<uint32_t>(pkt.size()), mtu).status;
  };
  EXPECT_EQ(status(testing::udp_v4(1400), 1400), FragmentStatus::fits);
  EXPECT_EQ(status(testing::udp_v4(1400), 67), FragmentStatus::mtu_too_small);
  EXPECT_EQ(status(testing::udp_v4(1400, 0x4000), 1300), FragmentStatus::dont_fragment);
  EXPECT_EQ(status(testing::udp_v6(1400), 1300), FragmentStatus::not_ipv4);
  EXPECT_EQ(status({}, 1300), FragmentStatus::not_ipv4);
  EXPECT_EQ(status({0x45, 0, 0}, 1300), FragmentStatus::bad_header_length);

  Bytes short_header = testing::udp_v4(1400);
  short_header[0] = 0x44;
  EXPECT_EQ(status(short_header, 1300), FragmentStatus::bad_header_length);
  Bytes long_header = testing::udp_v4(1400);
  long_header[0] = 0x4f;
  long_header.resize(40);
  EXPECT_EQ(status(long_header, 30), FragmentStatus::mtu_too_small);
  EXPECT_EQ(status(long_header, 1300), FragmentStatus::bad_header_length);

  Bytes lying = testing::udp_v4(1400);
  lying[2] = 0x06;  // 1400 + 256
  EXPECT_EQ(status(lying, 1300), FragmentStatus::bad_total_length);
  Bytes below_header = testing::udp_v4(1400);
  below_header[2] = 0;
  below_header[3] = 19;
  EXPECT_EQ(status(below_header, 1300), FragmentStatus::bad_total_length);

  EXPECT_EQ(status(testing::udp_v4(1400, 0, {0x94, 0, 0, 0}), 1300), FragmentStatus::bad_options);
  EXPECT_EQ(status(testing::udp_v4(1400, 0, {1, 1, 0x94, 9}), 1300), FragmentStatus::bad_options);
  EXPECT_EQ(status(testing::udp_v4(1400, 0, {1, 1, 1, 0x94}), 1300), FragmentStatus::bad_options);

  // Offset 8100 units = 64800 bytes, plus 1380 of payload: past 65535.
  EXPECT_EQ(status(testing::udp_v4(1400, 8100), 1300), FragmentStatus::offset_overflow);
  EXPECT_EQ(status(testing::udp_v4(1400, 7000), 1300), FragmentStatus::ok);
}

TEST(Prefragment, WriterRefusesMisuse) {
  const Bytes pkt = testing::udp_v4(3000);
  const FragmentPlan plan = plan_ipv4_fragments(pkt.data(), 3000, 1400);
  ASSERT_EQ(plan.status, FragmentStatus::ok);
  Bytes out(2048);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, plan, 3, out.data(), 2048), 0u);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, plan, 0, out.data(), 1395), 0u);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, plan, 0, out.data(), 1396), 1396u);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 2999, plan, 0, out.data(), 2048), 0u);
  EXPECT_EQ(write_ipv4_fragment(nullptr, 3000, plan, 0, out.data(), 2048), 0u);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, plan, 0, nullptr, 2048), 0u);
  EXPECT_EQ(ipv4_fragment_length(plan, 3), 0u);

  FragmentPlan forged = plan;
  forged.count = 2;  // would leave payload unwritten
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, forged, 1, out.data(), 2048), 0u);
  forged = plan;
  forged.count = 60000;  // would read past the packet
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, forged, 59999, out.data(), 2048), 0u);
  forged = plan;
  forged.later_header_len = 44;
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, forged, 1, out.data(), 2048), 0u);

  const Bytes other = testing::udp_v4(2000);
  Bytes big(3000, 0);
  std::copy(other.begin(), other.end(), big.begin());
  EXPECT_EQ(write_ipv4_fragment(big.data(), 3000, plan, 1, out.data(), 2048), 0u)
      << "a different packet than planned";

  const FragmentPlan fits = plan_ipv4_fragments(pkt.data(), 3000, 3000);
  EXPECT_EQ(fits.status, FragmentStatus::fits);
  EXPECT_EQ(write_ipv4_fragment(pkt.data(), 3000, fits, 0, out.data(), 2048), 0u);
}

}  // namespace
}  // namespace traverse::engine::ops
