// Prints packets made by the path-MTU operations as hex lines for the scapy
// interop test (packet_ops_scapy_test.py), and with "parse" reads ICMP errors
// (hex, one per line) that scapy built and prints what parse_icmp_too_big saw.
//
//   too_big4 MTU OFFENDING ICMP        mss4 MAX BEFORE AFTER
//   too_big6 MTU OFFENDING ICMP        mss6 MAX BEFORE AFTER
//   frag4 MTU ORIGINAL FRAG,FRAG,...   (ORIGINAL is the packet reassembly must yield)
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "dataplane/engine/ops/icmp_error_parse.hh"
#include "dataplane/engine/ops/icmp_too_big.hh"
#include "dataplane/engine/ops/mss_clamp.hh"
#include "dataplane/engine/ops/ops_test_packets.hh"
#include "dataplane/engine/ops/prefragment.hh"
#include "dataplane/esp/hex.hh"

namespace {

using traverse::engine::ops::testing::Bytes;
namespace ops = traverse::engine::ops;
namespace t = traverse::engine::ops::testing;

bool g_failed = false;

void too_big(const char* tag, const Bytes& offending, const traverse::esp::IpAddress& gateway,
             uint32_t mtu) {
  Bytes out(2048);
  const ops::TooBigResult r =
      ops::build_icmp_too_big(offending.data(), static_cast<uint32_t>(offending.size()), gateway,
                              mtu, out.data(), static_cast<uint32_t>(out.size()));
  if (r.reason != ops::TooBigReason::built) {
    std::fprintf(stderr, "%s: %s\n", tag, std::string(ops::too_big_reason_name(r.reason)).c_str());
    g_failed = true;
    return;
  }
  std::printf("%s %u %s %s\n", tag, mtu, t::to_hex(offending).c_str(),
              t::to_hex(out.data(), r.length).c_str());
}

void mss(const char* tag, const Bytes& before, uint16_t max_mss) {
  Bytes after = before;
  const ops::MssClamp r =
      ops::clamp_tcp_mss(after.data(), static_cast<uint32_t>(after.size()), max_mss);
  if (r != ops::MssClamp::clamped) {
    std::fprintf(stderr, "%s: %s\n", tag, std::string(ops::mss_clamp_name(r)).c_str());
    g_failed = true;
    return;
  }
  std::printf("%s %u %s %s\n", tag, max_mss, t::to_hex(before).c_str(), t::to_hex(after).c_str());
}

std::vector<Bytes> fragments(const Bytes& pkt, uint32_t mtu) {
  const ops::FragmentPlan plan =
      ops::plan_ipv4_fragments(pkt.data(), static_cast<uint32_t>(pkt.size()), mtu);
  std::vector<Bytes> out;
  if (plan.status == ops::FragmentStatus::fits) {
    out.push_back(pkt);  // sent unchanged
    return out;
  }
  if (plan.status != ops::FragmentStatus::ok) {
    std::fprintf(stderr, "frag: %s\n", std::string(ops::fragment_status_name(plan.status)).c_str());
    g_failed = true;
    return out;
  }
  for (uint32_t i = 0; i < plan.count; ++i) {
    Bytes f(ops::ipv4_fragment_length(plan, i));
    if (ops::write_ipv4_fragment(pkt.data(), static_cast<uint32_t>(pkt.size()), plan, i, f.data(),
                                 static_cast<uint32_t>(f.size())) != f.size()) {
      g_failed = true;
    }
    out.push_back(f);
  }
  return out;
}

void print_fragments(const Bytes& original, uint32_t mtu, const std::vector<Bytes>& frags) {
  std::string list;
  for (const Bytes& f : frags) {
    list += (list.empty() ? "" : ",") + t::to_hex(f);
  }
  std::printf("frag4 %u %s %s\n", mtu, t::to_hex(original).c_str(), list.c_str());
}

void generate() {
  const auto gw4 = traverse::esp::IpAddress::from_v4(t::kGateway4.data());
  const auto gw6 = traverse::esp::IpAddress::from_v6(t::kGateway6.data());
  too_big("too_big4", t::udp_v4(1500), gw4, 1400);
  too_big("too_big4", t::udp_v4(200), gw4, 150);
  too_big("too_big4", t::udp_v4(1500, 0x4000, {0x94, 4, 0, 0, 1, 1, 1, 0}), gw4, 1280);
  too_big("too_big4", t::tcp_v4(0x10, {}, 1400), gw4, 1380);
  too_big("too_big6", t::udp_v6(2000), gw6, 1280);
  too_big("too_big6", t::udp_v6(1400), gw6, 1350);
  too_big("too_big6", t::tcp_v6(0x18, {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 1300), gw6, 1300);

  const Bytes mss1460 = {2, 4, 0x05, 0xb4};
  mss("mss4", t::tcp_v4(0x02, {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2}, 0), 1360);
  mss("mss4", t::tcp_v4(0x12, {1, 2, 4, 0x23, 0x28, 1, 1, 1}, 0), 1300);  // odd offset, 9000
  mss("mss4", t::tcp_v4(0x02, {2, 4, 0xff, 0xff, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0}, 17), 536);
  mss("mss6", t::tcp_v6(0x02, mss1460, 0), 1340);
  mss("mss6", t::tcp_v6(0x12, {1, 1, 1, 2, 4, 0x05, 0xa0, 1, 3, 3, 7}, 5), 1220);

  const Bytes options = {7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0};  // RR not copied, RA copied
  for (const auto& [len, mtu] :
       {std::pair{3000u, 1400u}, {1500u, 576u}, {9000u, 1500u}, {200u, 68u}}) {
    const Bytes pkt = t::udp_v4(len);
    print_fragments(pkt, mtu, fragments(pkt, mtu));
  }
  const Bytes with_options = t::udp_v4(2000, 0, options);
  print_fragments(with_options, 700, fragments(with_options, 700));
  // Fragments of fragments: every piece of every first-pass fragment.
  const Bytes big = t::udp_v4(5000);
  std::vector<Bytes> all;
  for (const Bytes& f : fragments(big, 1500)) {
    for (const Bytes& g : fragments(f, 576)) {
      all.push_back(g);
    }
  }
  print_fragments(big, 576, all);
}

std::string address(const traverse::esp::IpAddress& a) {
  return a.to_string();
}

void parse_lines() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::vector<uint8_t> pkt;
    if (!traverse::esp::parse_hex(line, &pkt)) {
      std::printf("bad_hex\n");
      continue;
    }
    ops::PmtuReport r;
    const ops::PmtuIcmpStatus s =
        ops::parse_icmp_too_big(pkt.data(), static_cast<uint32_t>(pkt.size()), &r);
    if (s != ops::PmtuIcmpStatus::ok) {
      std::printf("%s\n", std::string(ops::pmtu_icmp_status_name(s)).c_str());
      continue;
    }
    std::printf("ok %s %s %s %u %u %s %u %u\n", address(r.reporter).c_str(),
                address(r.quoted_src).c_str(), address(r.quoted_dst).c_str(), r.udp ? 1u : 0u,
                r.mtu, r.spi_present ? std::to_string(r.spi).c_str() : "-", r.src_port, r.dst_port);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "parse") == 0) {
    parse_lines();
    return 0;
  }
  generate();
  return g_failed ? 1 : 0;
}
