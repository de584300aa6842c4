#include "drivers/port/exception_tap.hh"

#include <rte_ether.h>

#include "drivers/port/kernel_interface.hh"

namespace traverse::port {

std::optional<EthPort> open_exception_tap(const ExceptionTapSetup& setup, std::string* error) {
  char mac[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(mac, sizeof mac, &setup.mac);
  PortSetup tap;
  // net_tap names its kernel side after iface= and answers as mac=.
  tap.devargs = "net_tap_" + setup.ifname + ",iface=" + setup.ifname + ",mac=" + mac;
  tap.workers = setup.workers;
  tap.mtu = setup.mtu;
  tap.pool = setup.pool;
  tap.rx_descriptors = 512;
  tap.tx_descriptors = 512;
  std::optional<EthPort> port = EthPort::open(tap, error);
  if (!port) {
    return std::nullopt;
  }
  if (std::string why = set_link_up(setup.ifname); !why.empty()) {
    *error = why;
    return std::nullopt;
  }
  for (const auto& [address, length] : setup.addresses) {
    if (std::string why = add_address(setup.ifname, address, length); !why.empty()) {
      *error = why;
      return std::nullopt;
    }
  }
  for (const esp::IpAddress& gateway : setup.gateways) {
    if (std::string why = add_default_route(setup.ifname, gateway); !why.empty()) {
      *error = why;
      return std::nullopt;
    }
  }
  return port;
}

}  // namespace traverse::port
