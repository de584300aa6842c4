// The dataplane's configuration: EAL options, the two logical ports, workers,
// the API socket and static (manually keyed) SAs and policies. Read once at
// start from the [dataplane] table of a TOML file; errors name the file, line
// and key. Plain data, not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/esp/sa_config.hh"

namespace traverse::engine {

struct Prefix {
  esp::IpAddress address;
  uint8_t length = 0;
};

struct PortConfig {
  std::string name;    // "outside" or "inside"
  std::string device;  // DPDK devargs: a PCI address or a vdev ("net_af_packet0,iface=X")
  std::vector<Prefix> addresses;         // the gateway's own addresses on this port
  std::vector<esp::IpAddress> gateways;  // next-hop routers (one per IP version), optional
  uint16_t mtu = 1500;
  std::string tap;  // kernel TAP name of the exception path ("" = none)
  // The device spreads flows over its RX queues without RSS offload: a
  // net_pcap given one flow-split capture per queue (the benchmark's stand-in
  // for RSS). net_af_packet with qpairs=N does so too (kernel fanout hash)
  // and is recognised without this.
  bool queues_spread_flows = false;
};

enum class SaDirection : uint8_t { inbound, outbound };

struct StaticSa {
  SaDirection direction = SaDirection::inbound;
  esp::SaConfig sa;
  uint64_t soft_bytes = 0;  // 0 = unlimited
  uint64_t hard_bytes = 0;
  uint64_t soft_packets = 0;
  uint64_t hard_packets = 0;
};

struct StaticPolicy {
  Prefix selector;   // inside destination
  uint32_t spi = 0;  // outbound SA
};

// A next hop pinned by configuration: for the pcap benchmark and golden tests,
// whose replayed input cannot answer ARP. Production resolves next hops.
struct StaticNeighbor {
  std::string port;  // "outside" or "inside"
  esp::IpAddress address;
  std::array<uint8_t, 6> mac{};
};

struct DataplaneConfig {
  std::vector<std::string> eal_args;
  uint32_t workers = 1;
  uint32_t mbufs = 16384;
  uint32_t max_sas = 131072;  // per direction; a power of two
  std::string api_socket = "/run/traverse/dataplane.sock";
  uint32_t reassembly_entries = 4096;  // outer fragments being reassembled per worker
  uint32_t reassembly_timeout_ms = 2000;
  uint32_t icmp_rate_per_second = 100;  // ICMP errors per SA
  uint32_t idle_timeout_s = 0;          // 0 = no idle events
  bool replay_window_disabled = false;  // benchmarks replaying a capture only
  PortConfig outside;
  PortConfig inside;
  std::vector<StaticSa> sas;
  std::vector<StaticPolicy> policies;
  std::vector<StaticNeighbor> neighbors;
};

// Parses `path`. On error returns nullopt and sets `error` to
// "FILE:LINE: KEY: what is wrong (accepted: ...)".
std::optional<DataplaneConfig> load_dataplane_config(const std::string& path, std::string* error);
// The same from a string (tests); `origin` names it in errors.
std::optional<DataplaneConfig> parse_dataplane_config(const std::string& text,
                                                      const std::string& origin,
                                                      std::string* error);

std::optional<Prefix> parse_prefix(const std::string& text);

}  // namespace traverse::engine
