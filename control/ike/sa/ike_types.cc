#include "control/ike/sa/ike_types.hh"

#include <algorithm>
#include <array>

namespace traverse::ike {
namespace {

using Octets = std::array<uint8_t, 16>;

Octets octets(const asio::ip::address& a) {
  Octets out{};
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  } else {
    out = a.to_v6().to_bytes();
  }
  return out;
}

asio::ip::address from_octets(const Octets& o, bool v4) {
  if (v4)
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{o[0], o[1], o[2], o[3]});
  return asio::ip::address_v6(o);
}

int compare(const asio::ip::address& a, const asio::ip::address& b) {
  Octets x = octets(a), y = octets(b);
  std::size_t n = a.is_v4() ? 4 : 16;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i])
      return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

}  // namespace

const char* to_string(IkeState s) {
  switch (s) {
    case IkeState::init_sent:
      return "init_sent";
    case IkeState::init_done:
      return "init_done";
    case IkeState::auth_sent:
      return "auth_sent";
    case IkeState::established:
      return "established";
    case IkeState::rekeyed:
      return "rekeyed";
    case IkeState::deleting:
      return "deleting";
    case IkeState::dead:
      return "dead";
  }
  return "unknown";
}

const char* to_string(ChildState s) {
  switch (s) {
    case ChildState::installed:
      return "installed";
    case ChildState::rekeying:
      return "rekeying";
    case ChildState::rekeyed:
      return "rekeyed";
    case ChildState::deleting:
      return "deleting";
  }
  return "unknown";
}

TsRange TsRange::from_prefix(const asio::ip::address& network, unsigned prefix_len) {
  bool v4 = network.is_v4();
  unsigned bits = v4 ? 32 : 128;
  prefix_len = std::min(prefix_len, bits);
  Octets lo = octets(network), hi = lo;
  for (unsigned bit = prefix_len; bit < bits; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    lo[bit / 8] = static_cast<uint8_t>(lo[bit / 8] & ~mask);
    hi[bit / 8] = static_cast<uint8_t>(hi[bit / 8] | mask);
  }
  return {from_octets(lo, v4), from_octets(hi, v4), 0, 0, 65535};
}

bool TsRange::empty() const {
  return start.is_v4() != end.is_v4() || compare(start, end) > 0 || start_port > end_port;
}

int TsRange::prefix_length() const {
  if (empty())
    return -1;
  bool v4 = is_v4();
  unsigned bits = v4 ? 32 : 128;
  Octets lo = octets(start), hi = octets(end);
  unsigned common = 0;
  while (common < bits) {
    uint8_t mask = static_cast<uint8_t>(0x80u >> (common % 8));
    if ((lo[common / 8] & mask) != (hi[common / 8] & mask))
      break;
    ++common;
  }
  // The rest must be all zeros in start and all ones in end.
  for (unsigned bit = common; bit < bits; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if ((lo[bit / 8] & mask) != 0 || (hi[bit / 8] & mask) == 0)
      return -1;
  }
  return static_cast<int>(common);
}

std::string TsRange::to_string() const {
  std::string out;
  int prefix = prefix_length();
  if (prefix >= 0) {
    out = start.to_string() + "/" + std::to_string(prefix);
  } else {
    out = start.to_string() + ".." + end.to_string();
  }
  if (ip_protocol != 0)
    out += " proto " + std::to_string(ip_protocol);
  if (start_port != 0 || end_port != 65535) {
    out += " port " + std::to_string(start_port) + "-" + std::to_string(end_port);
  }
  return out;
}

TsRange intersect(const TsRange& a, const TsRange& b) {
  TsRange out = a;
  if (a.is_v4() != b.is_v4()) {
    out.start_port = 1;
    out.end_port = 0;  // empty
    return out;
  }
  if (a.ip_protocol != 0 && b.ip_protocol != 0 && a.ip_protocol != b.ip_protocol) {
    out.start_port = 1;
    out.end_port = 0;
    return out;
  }
  out.ip_protocol = a.ip_protocol != 0 ? a.ip_protocol : b.ip_protocol;
  out.start = compare(a.start, b.start) >= 0 ? a.start : b.start;
  out.end = compare(a.end, b.end) <= 0 ? a.end : b.end;
  out.start_port = std::max(a.start_port, b.start_port);
  out.end_port = std::min(a.end_port, b.end_port);
  return out;
}

}  // namespace traverse::ike
