#include "control/gateway/ip_prefix.hh"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace traverse::gateway {
namespace {

// True when the first prefix bits of a and b are equal.
bool same_prefix(const Address& a, const Address& b, unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, b.bytes.begin())) {
    return false;
  }
  const unsigned rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

}  // namespace

Expected<Address, std::string> Address::parse(std::string_view text) {
  // inet_pton needs a terminated string; the longest IPv6 text is 45 bytes.
  if (text.empty() || text.size() > 45) {
    return unexpected("'" + std::string(text) + "' is not an IPv4 or IPv6 address");
  }
  const std::string copy(text);
  Address out;
  if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) {
    out.version = 4;
    return out;
  }
  if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) == 1) {
    out.version = 6;
    return out;
  }
  return unexpected("'" + copy + "' is not an IPv4 or IPv6 address");
}

std::string Address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(version == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text));
  return text;
}

Expected<Cidr, std::string> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = Address::parse(text.substr(0, slash));
  if (!address) {
    return unexpected(address.error());
  }
  Cidr out;
  out.address = *address;
  out.prefix = out.max_prefix();
  if (slash == std::string_view::npos) {
    return out;
  }
  const std::string_view digits = text.substr(slash + 1);
  unsigned length = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      length > out.max_prefix()) {
    return unexpected("'" + std::string(text) + "' has a bad prefix length (expected 0.." +
                      std::to_string(out.max_prefix()) + ")");
  }
  out.prefix = static_cast<uint8_t>(length);
  Cidr network = out;
  for (unsigned bit = length; bit < out.max_prefix(); ++bit) {
    network.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (network.address != out.address) {
    return unexpected("'" + std::string(text) + "' has host bits set (did you mean " +
                      network.to_string() + "?)");
  }
  return out;
}

std::string Cidr::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix);
}

bool Cidr::contains(const Address& candidate) const {
  return candidate.version == address.version && same_prefix(address, candidate, prefix);
}

bool Cidr::overlaps(const Cidr& other) const {
  return other.address.version == address.version &&
         same_prefix(address, other.address, std::min(prefix, other.prefix));
}

}  // namespace traverse::gateway
