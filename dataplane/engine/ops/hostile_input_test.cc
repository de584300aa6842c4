// Truncated, lying and randomly corrupted packets through every operation:
// none may read or write outside its buffers (run under ASan/UBSan) and each
// must answer with a named reason. Packets are copied into buffers of
// exactly their length so an overread is caught.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "dataplane/engine/ops/icmp_error_parse.hh"
#include "dataplane/engine/ops/icmp_too_big.hh"
#include "dataplane/engine/ops/ip_view.hh"
#include "dataplane/engine/ops/mss_clamp.hh"
#include "dataplane/engine/ops/ops_test_packets.hh"
#include "dataplane/engine/ops/prefragment.hh"

namespace traverse::engine::ops {
namespace {

using testing::Bytes;

// A heap block of exactly `n` bytes (nullptr for 0): ASan flags one byte past.
struct Exact {
  std::unique_ptr<uint8_t[]> bytes;
  uint32_t len;
  Exact(const uint8_t* from, size_t n)
      : bytes(n == 0 ? nullptr : new uint8_t[n]), len(uint32_t(n)) {
    std::copy(from, from + n, bytes.get());
  }
  uint8_t* data() { return bytes.get(); }
};

std::vector<Bytes> corpus() {
  const Bytes mss = {1, 2, 4, 5, 0xb4, 1, 3, 3, 7};
  Bytes hbh_tcp = testing::make_ipv6(0, testing::kHostA6, testing::kHostB6, [&] {
    Bytes p = {6, 0, 1, 4, 0, 0, 0, 0};
    const Bytes tcp = testing::make_tcp(0x02, mss, 10);
    p.insert(p.end(), tcp.begin(), tcp.end());
    return p;
  }());
  testing::set_l4_checksum(hbh_tcp, 48, 6);
  return {
      testing::tcp_v4(0x02, mss, 0),
      testing::tcp_v6(0x12, mss, 30),
      hbh_tcp,
      testing::udp_v4(700, 0, {7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0}),
      testing::udp_v6(900),
      testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, 77, false), 548),
      testing::icmp4_error(3, 4, 1300, testing::esp_v4(1400, 77, true), 28),
      testing::icmp6_error(2, 0, 1280, testing::esp_v6(1500, 77, true), 1232),
  };
}

void exercise(const uint8_t* data, size_t n) {
  const esp::IpAddress gw4 = esp::IpAddress::from_v4(testing::kGateway4.data());
  const esp::IpAddress gw6 = esp::IpAddress::from_v6(testing::kGateway6.data());
  Exact pkt(data, n);

  IpView view;
  const IpViewStatus vs = view_ip(pkt.data(), pkt.len, IpViewMode::whole_packet, &view);
  EXPECT_FALSE(ip_view_status_name(vs).empty());
  if (vs == IpViewStatus::ok) {
    EXPECT_LE(view.l4_offset, view.total_len);
    EXPECT_LE(view.total_len, pkt.len);
  }
  const IpViewStatus qs = view_ip(pkt.data(), pkt.len, IpViewMode::quote, &view);
  if (qs == IpViewStatus::ok) {
    EXPECT_LE(view.l4_offset, pkt.len);
  }

  for (const esp::IpAddress* gw : {&gw4, &gw6}) {
    for (uint32_t cap : {0u, 60u, 600u, 1300u}) {
      Exact out(Bytes(cap).data(), cap);
      const TooBigResult r = build_icmp_too_big(pkt.data(), pkt.len, *gw, 1280, out.data(), cap);
      EXPECT_FALSE(too_big_reason_name(r.reason).empty());
      if (r.reason == TooBigReason::built) {
        EXPECT_LE(r.length, cap);
        EXPECT_LE(r.length, gw->version == 4 ? 576u : 1280u);
        const uint32_t header = gw->version == 4 ? 20 : 40;
        EXPECT_TRUE(testing::ref_sum_ok(
            out.data() + header, r.length - header,
            gw->version == 4 ? 0
                             : testing::ref_pseudo_sum(Bytes(out.data(), out.data() + r.length), 58,
                                                       r.length - header)));
      } else {
        EXPECT_EQ(r.length, 0u);
      }
    }
  }

  {
    Exact copy(data, n);
    const MssClamp r = clamp_tcp_mss(copy.data(), copy.len, 500);
    EXPECT_FALSE(mss_clamp_name(r).empty());
    if (r != MssClamp::clamped && n > 0) {
      EXPECT_TRUE(std::equal(copy.data(), copy.data() + n, data)) << mss_clamp_name(r);
    }
  }

  for (uint32_t mtu : {68u, 300u, 576u}) {
    const FragmentPlan plan = plan_ipv4_fragments(pkt.data(), pkt.len, mtu);
    EXPECT_FALSE(fragment_status_name(plan.status).empty());
    if (plan.status != FragmentStatus::ok) {
      continue;
    }
    std::vector<Bytes> frags;
    for (uint32_t i = 0; i < plan.count; ++i) {
      const uint32_t want = ipv4_fragment_length(plan, i);
      Exact out(Bytes(want).data(), want);
      ASSERT_EQ(write_ipv4_fragment(pkt.data(), pkt.len, plan, i, out.data(), want), want);
      EXPECT_LE(want, mtu);
      frags.emplace_back(out.data(), out.data() + want);
    }
    if ((data[6] & 0x3f) == 0 && data[7] == 0) {
      // An unfragmented input reassembles to itself, but for the header
      // checksum: a corrupted input's was wrong, the reassembler's is right.
      Bytes whole = testing::ref_reassemble_v4(frags);
      Bytes expected(data, data + plan.total_len);
      ASSERT_EQ(whole.size(), expected.size());
      whole[10] = whole[11] = expected[10] = expected[11] = 0;
      EXPECT_EQ(whole, expected);
    }
  }

  PmtuReport report;
  const PmtuIcmpStatus ps = parse_icmp_too_big(pkt.data(), pkt.len, &report);
  EXPECT_FALSE(pmtu_icmp_status_name(ps).empty());
  if (ps == PmtuIcmpStatus::ok) {
    EXPECT_LT(report.mtu, report.quoted_len);
    EXPECT_GE(report.mtu, 68u);
  }
}

TEST(HostileInput, EveryTruncation) {
  for (const Bytes& pkt : corpus()) {
    for (size_t n = 0; n <= pkt.size(); ++n) {
      exercise(pkt.data(), n);
    }
  }
}

TEST(HostileInput, TruncationsWithLengthsFixed) {
  // Consistent length fields over a cut packet: the lie moves into the
  // transport headers, quotes and options.
  for (const Bytes& original : corpus()) {
    for (size_t n = 20; n <= original.size(); ++n) {
      Bytes pkt(original.begin(), original.begin() + static_cast<long>(n));
      if ((pkt[0] >> 4) == 4) {
        pkt[2] = static_cast<uint8_t>(n >> 8);
        pkt[3] = static_cast<uint8_t>(n);
      } else if (n >= 40) {
        pkt[4] = static_cast<uint8_t>((n - 40) >> 8);
        pkt[5] = static_cast<uint8_t>(n - 40);
      }
      exercise(pkt.data(), pkt.size());
    }
  }
}

TEST(HostileInput, RandomCorruption) {
  std::mt19937 rng(20240601);
  const std::vector<Bytes> packets = corpus();
  for (int trial = 0; trial < 20000; ++trial) {
    Bytes pkt = packets[rng() % packets.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Bias towards the headers, where the lengths and option bytes live.
      const size_t at =
          rng() % 2 == 0 ? rng() % std::min<size_t>(pkt.size(), 80) : rng() % pkt.size();
      pkt[at] = static_cast<uint8_t>(rng());
    }
    if (rng() % 4 == 0) {
      pkt.resize(rng() % (pkt.size() + 1));
    }
    exercise(pkt.data(), pkt.size());
  }
}

TEST(HostileInput, MssOptionWalkRunsOffTheEnd) {
  // Every option kind and length byte at the end of a full 60-byte TCP header.
  for (int kind = 0; kind < 256; ++kind) {
    for (int len = 0; len < 256; len += 3) {
      Bytes options(39, 1);
      options.push_back(static_cast<uint8_t>(kind));
      Bytes pkt = testing::tcp_v4(0x02, options, 0);
      exercise(pkt.data(), pkt.size());
      options[37] = static_cast<uint8_t>(kind);
      options[38] = static_cast<uint8_t>(len);
      pkt = testing::tcp_v4(0x02, options, 0);
      Exact exact(pkt.data(), pkt.size());
      const MssClamp r = clamp_tcp_mss(exact.data(), exact.len, 100);
      if (kind > 1) {
        EXPECT_TRUE(r == MssClamp::malformed_options || r == MssClamp::no_mss_option ||
                    r == MssClamp::clamped)
            << kind << " " << len << " " << mss_clamp_name(r);
      }
    }
  }
}

}  // namespace
}  // namespace traverse::engine::ops
