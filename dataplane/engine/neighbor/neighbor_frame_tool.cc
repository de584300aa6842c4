// traverse-neighbor-frame-tool: the bridge the scapy interop test drives.
//   arp SRC_MAC SRC_IP TARGET [DST_MAC|-] [VLAN]   prints a built ARP request as hex
//   ns  SRC_MAC SRC_IP TARGET [DST_MAC|-] [VLAN]   prints a built neighbor solicitation
//   parse HEX                                      prints what learn_from_frame learns:
//     "ip=... mac=... source=... vlan=N override=0|1 gratuitous=0|1", or "none"
// Exits 2 on bad arguments, 1 when the builder refuses them.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/engine/neighbor/arp_nd.hh"
#include "dataplane/esp/hex.hh"

namespace {

using traverse::engine::NeighborLearn;
using traverse::engine::NeighborSource;
using traverse::esp::IpAddress;

using traverse::esp::hex_digit;
using traverse::esp::parse_hex;

bool parse_mac(std::string_view text, uint8_t* mac) {
  if (text.size() != 17) {
    return false;
  }
  for (int i = 0; i < 6; ++i) {
    const int hi = hex_digit(text[i * 3]);
    const int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) {
      return false;
    }
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

const char* source_name(NeighborSource s) {
  switch (s) {
    case NeighborSource::arp_request:
      return "arp_request";
    case NeighborSource::arp_reply:
      return "arp_reply";
    case NeighborSource::neighbor_solicitation:
      return "neighbor_solicitation";
    case NeighborSource::neighbor_advertisement:
      return "neighbor_advertisement";
    case NeighborSource::router_advertisement:
      return "router_advertisement";
  }
  return "unknown";
}

int usage() {
  std::fprintf(stderr,
               "usage: traverse-neighbor-frame-tool arp|ns SRC_MAC SRC_IP TARGET [DST_MAC|-] "
               "[VLAN]\n       traverse-neighbor-frame-tool parse HEX\n");
  return 2;
}

int build(int argc, char** argv) {
  uint8_t src_mac[6];
  uint8_t dst_mac[6];
  const uint8_t* unicast = nullptr;
  const auto src_ip = IpAddress::parse(argv[3]);
  const auto target = IpAddress::parse(argv[4]);
  if (!parse_mac(argv[2], src_mac) || !src_ip || !target) {
    return usage();
  }
  if (argc > 5 && std::strcmp(argv[5], "-") != 0) {
    if (!parse_mac(argv[5], dst_mac)) {
      return usage();
    }
    unicast = dst_mac;
  }
  uint16_t vlan = 0;
  if (argc > 6) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(argv[6], &end, 10);
    if (end == argv[6] || *end != '\0' || v > 0xffff) {
      return usage();
    }
    vlan = static_cast<uint16_t>(v);
  }
  uint8_t frame[256];
  const uint32_t n = std::strcmp(argv[1], "arp") == 0
                         ? traverse::engine::build_arp_request(frame, sizeof frame, src_mac,
                                                               *src_ip, *target, unicast, vlan)
                         : traverse::engine::build_neighbor_solicitation(
                               frame, sizeof frame, src_mac, *src_ip, *target, unicast, vlan);
  if (n == 0) {
    std::puts("refused");
    return 1;
  }
  for (uint32_t i = 0; i < n; ++i) {
    std::printf("%02x", frame[i]);
  }
  std::printf("\n");
  return 0;
}

int parse(const char* hex) {
  std::vector<uint8_t> frame;
  if (!parse_hex(hex, &frame)) {
    return usage();
  }
  NeighborLearn learned;
  if (!traverse::engine::learn_from_frame(frame.data(), static_cast<uint32_t>(frame.size()),
                                          &learned)) {
    std::puts("none");
    return 0;
  }
  const auto& m = learned.mac;
  std::printf(
      "ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x source=%s vlan=%u override=%d gratuitous=%d\n",
      learned.ip.to_string().c_str(), m[0], m[1], m[2], m[3], m[4], m[5],
      source_name(learned.source), learned.vlan, learned.may_override ? 1 : 0,
      learned.gratuitous ? 1 : 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "parse") == 0) {
    return parse(argv[2]);
  }
  if (argc >= 5 && argc <= 7 &&
      (std::strcmp(argv[1], "arp") == 0 || std::strcmp(argv[1], "ns") == 0)) {
    return build(argc, argv);
  }
  return usage();
}
