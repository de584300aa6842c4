#include "dataplane/esp/ip_address.hh"

#include <arpa/inet.h>

#include <cstring>

namespace traverse::esp {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.version = 4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.version = 6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (version == 4) {
    inet_ntop(AF_INET, bytes.data(), text, sizeof text);
  } else if (version == 6) {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  } else {
    return "unset";
  }
  return text;
}

}  // namespace traverse::esp
