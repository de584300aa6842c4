// Configures a kernel network interface over rtnetlink: bring it up, add an
// address, add a default route. Used once at start for the exception-path
// TAPs, so the kernel owns the gateway's addresses (ARP/ND, ICMP echo, IKE and
// TLS sockets). Blocking, start-up only.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/esp/ip_address.hh"

namespace traverse::port {

// Each returns "" on success, otherwise what failed (with the errno text).
std::string set_link_up(const std::string& ifname);
std::string add_address(const std::string& ifname, const esp::IpAddress& address,
                        uint8_t prefix_length);
std::string add_default_route(const std::string& ifname, const esp::IpAddress& gateway);

}  // namespace traverse::port
