// Opens one DPDK ethdev from its devargs (a PCI address or a vdev such as
// "net_af_packet0,iface=veth0"), configures one RX queue per worker where the
// device has them (RSS spreads flows; a single-queue device is polled by
// worker 0 only) and one TX queue per worker, and starts it. Start-up code:
// call from the main lcore before the workers launch.
#pragma once

#include <rte_ether.h>

#include <cstdint>
#include <optional>
#include <string>

struct rte_mempool;

namespace traverse::port {

struct PortSetup {
  std::string devargs;
  uint16_t workers = 1;
  uint16_t mtu = 1500;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  rte_mempool* pool = nullptr;
  bool promiscuous = false;  // the exception TAP needs the port's own MAC only
  // Several RX queues keep each flow on one queue without RSS offload
  // (net_pcap with a flow-split capture per queue); af_packet is detected.
  bool queues_spread_flows = false;
};

struct EthPort {
  uint16_t id = 0;
  std::string name;
  rte_ether_addr mac{};
  uint16_t rx_queues = 0;  // workers with index < rx_queues poll this port
  uint16_t tx_queues = 0;  // one per worker
  bool rss = false;

  // Probes the device if it is not there yet, configures and starts it.
  static std::optional<EthPort> open(const PortSetup& setup, std::string* error);
  void close();
};

// The device name in devargs: everything before the first comma.
std::string device_name(const std::string& devargs);

}  // namespace traverse::port
