#include "drivers/port/kernel_interface.hh"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traverse::port {
namespace {

struct Request {
  nlmsghdr header;
  char payload[512];
};

void add_attribute(Request& req, uint16_t type, const void* data, size_t len) {
  auto* attr =
      reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.header.nlmsg_len));
  attr->rta_type = type;
  attr->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(attr), data, len);
  req.header.nlmsg_len = NLMSG_ALIGN(req.header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

// Sends one request and waits for its acknowledgement.
std::string transact(Request& req, const std::string& what) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return what + ": netlink socket: " + std::strerror(errno);
  }
  req.header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req.header.nlmsg_seq = 1;
  std::string result;
  if (send(fd, &req, req.header.nlmsg_len, 0) < 0) {
    result = what + ": netlink send: " + std::strerror(errno);
  } else {
    char reply[4096];
    const ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) {
      result = what + ": no netlink reply";
    } else {
      const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
        // EEXIST: configured already (a restart); that is what we wanted.
        if (err->error != 0 && err->error != -EEXIST) {
          result = what + ": " + std::strerror(-err->error);
        }
      }
    }
  }
  ::close(fd);
  return result;
}

}  // namespace

std::string set_link_up(const std::string& ifname) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    return "interface " + ifname + " not found";
  }
  Request req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.header.nlmsg_type = RTM_NEWLINK;
  auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(&req.header));
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = static_cast<int>(index);
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  return transact(req, "bring " + ifname + " up");
}

std::string add_address(const std::string& ifname, const esp::IpAddress& address,
                        uint8_t prefix_length) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    return "interface " + ifname + " not found";
  }
  Request req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.header.nlmsg_type = RTM_NEWADDR;
  req.header.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* msg = static_cast<ifaddrmsg*>(NLMSG_DATA(&req.header));
  msg->ifa_family = address.version == 4 ? AF_INET : AF_INET6;
  msg->ifa_prefixlen = prefix_length;
  msg->ifa_index = index;
  // The dataplane answers for nobody else: skip duplicate address detection
  // so the address is usable at once.
  msg->ifa_flags = IFA_F_NODAD;
  add_attribute(req, IFA_LOCAL, address.bytes.data(), address.length());
  add_attribute(req, IFA_ADDRESS, address.bytes.data(), address.length());
  return transact(
      req, "add " + address.to_string() + "/" + std::to_string(prefix_length) + " to " + ifname);
}

std::string add_default_route(const std::string& ifname, const esp::IpAddress& gateway) {
  const unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    return "interface " + ifname + " not found";
  }
  Request req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.header.nlmsg_type = RTM_NEWROUTE;
  req.header.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* msg = static_cast<rtmsg*>(NLMSG_DATA(&req.header));
  msg->rtm_family = gateway.version == 4 ? AF_INET : AF_INET6;
  msg->rtm_table = RT_TABLE_MAIN;
  msg->rtm_protocol = RTPROT_STATIC;
  msg->rtm_scope = RT_SCOPE_UNIVERSE;
  msg->rtm_type = RTN_UNICAST;
  add_attribute(req, RTA_GATEWAY, gateway.bytes.data(), gateway.length());
  const uint32_t oif = index;
  add_attribute(req, RTA_OIF, &oif, sizeof oif);
  return transact(req, "default route via " + gateway.to_string() + " on " + ifname);
}

}  // namespace traverse::port
