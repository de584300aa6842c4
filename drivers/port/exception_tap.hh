// The exception path of one port: a kernel TAP that carries the port's MAC
// and addresses, so the kernel answers ARP/ND and ICMP echo for the gateway and
// the control plane uses ordinary sockets (IKE, TCP 4500, TLS 443). Workers
// send it what is addressed to the gateway and is not ESP, and send out of the
// port what the kernel writes to it. Start-up code.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/esp/ip_address.hh"
#include "drivers/port/ethdev_port.hh"

namespace traverse::port {

struct ExceptionTapSetup {
  std::string ifname;
  rte_ether_addr mac{};
  std::vector<std::pair<esp::IpAddress, uint8_t>> addresses;
  std::vector<esp::IpAddress> gateways;  // default routes through the port
  uint16_t workers = 1;
  uint16_t mtu = 1500;
  rte_mempool* pool = nullptr;
};

std::optional<EthPort> open_exception_tap(const ExceptionTapSetup& setup, std::string* error);

}  // namespace traverse::port
