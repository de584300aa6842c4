#include "control/ike/sa/config_payload.hh"

namespace traverse::ike {
namespace {

constexpr uint8_t kCfgRequest = 1;
constexpr uint8_t kCfgReply = 2;

ConfigAttr attr(uint16_t type, Bytes value) {
  ConfigAttr a;
  a.type = static_cast<ConfigAttributeType>(type);
  a.value = std::move(value);
  return a;
}

Bytes bytes_of(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return Bytes(b.begin(), b.end());
  }
  auto b = a.to_v6().to_bytes();
  return Bytes(b.begin(), b.end());
}

std::optional<asio::ip::address> address_of(ByteView v, bool v6) {
  if (!v6 && v.size() >= 4) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{v[0], v[1], v[2], v[3]});
  }
  if (v6 && v.size() >= 16) {
    asio::ip::address_v6::bytes_type b{};
    std::copy(v.begin(), v.begin() + 16, b.begin());
    return asio::ip::address_v6(b);
  }
  return std::nullopt;
}

}  // namespace

ConfigRequest read_request(const CpPayload& cp) {
  ConfigRequest r;
  if (static_cast<uint8_t>(cp.config_type) != kCfgRequest)
    return r;
  for (const auto& a : cp.attributes) {
    const auto type = static_cast<uint16_t>(a.type);
    if (type == kAttrIp4Address)
      r.want_v4 = true;
    if (type == kAttrIp6Address)
      r.want_v6 = true;
  }
  return r;
}

CpPayload build_request(bool v4, bool v6) {
  CpPayload cp;
  cp.config_type = static_cast<decltype(cp.config_type)>(kCfgRequest);
  if (v4) {
    cp.attributes.push_back(attr(kAttrIp4Address, {}));
    cp.attributes.push_back(attr(kAttrIp4Dns, {}));
  }
  if (v6) {
    cp.attributes.push_back(attr(kAttrIp6Address, {}));
    cp.attributes.push_back(attr(kAttrIp6Dns, {}));
  }
  cp.attributes.push_back(attr(kAttrDnsDomain, {}));
  return cp;
}

CpPayload build_reply(const AssignedConfig& assigned) {
  CpPayload cp;
  cp.config_type = static_cast<decltype(cp.config_type)>(kCfgReply);
  for (const auto& a : assigned.addresses) {
    Bytes v = bytes_of(a);
    if (a.is_v6())
      v.push_back(128);  // RFC 7296 3.15.1: address and prefix length
    cp.attributes.push_back(attr(a.is_v4() ? kAttrIp4Address : kAttrIp6Address, std::move(v)));
  }
  for (const auto& d : assigned.dns) {
    cp.attributes.push_back(attr(d.is_v4() ? kAttrIp4Dns : kAttrIp6Dns, bytes_of(d)));
  }
  for (const auto& s : assigned.split_include) {
    int prefix = s.prefix_length();
    if (prefix < 0)
      continue;
    Bytes v = bytes_of(s.start);
    if (s.is_v4()) {
      // Address and netmask (RFC 7296 3.15.1).
      uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
      for (int shift = 24; shift >= 0; shift -= 8)
        v.push_back(static_cast<uint8_t>(mask >> shift));
      cp.attributes.push_back(attr(kAttrIp4Subnet, std::move(v)));
    } else {
      v.push_back(static_cast<uint8_t>(prefix));
      cp.attributes.push_back(attr(kAttrIp6Subnet, std::move(v)));
    }
  }
  for (const auto& domain : assigned.split_dns) {
    // RFC 8598 4: presentation format, no terminating NUL.
    cp.attributes.push_back(attr(kAttrDnsDomain, Bytes(domain.begin(), domain.end())));
  }
  return cp;
}

AssignedConfig read_reply(const CpPayload& cp) {
  AssignedConfig out;
  if (static_cast<uint8_t>(cp.config_type) != kCfgReply)
    return out;
  for (const auto& a : cp.attributes) {
    const auto type = static_cast<uint16_t>(a.type);
    switch (type) {
      case kAttrIp4Address:
      case kAttrIp6Address:
        if (auto addr = address_of(a.value, type == kAttrIp6Address))
          out.addresses.push_back(*addr);
        break;
      case kAttrIp4Dns:
      case kAttrIp6Dns:
        if (auto addr = address_of(a.value, type == kAttrIp6Dns))
          out.dns.push_back(*addr);
        break;
      case kAttrIp4Subnet:
        if (a.value.size() == 8) {
          auto addr = address_of(a.value, false);
          unsigned prefix = 0;
          for (std::size_t i = 4; i < 8; ++i)
            prefix += static_cast<unsigned>(__builtin_popcount(a.value[i]));
          out.split_include.push_back(TsRange::from_prefix(*addr, prefix));
        }
        break;
      case kAttrIp6Subnet:
        if (a.value.size() == 17) {
          out.split_include.push_back(
              TsRange::from_prefix(*address_of(a.value, true), a.value[16]));
        }
        break;
      case kAttrDnsDomain:
        if (!a.value.empty() && a.value.size() <= 253) {
          out.split_dns.emplace_back(a.value.begin(), a.value.end());
        }
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace traverse::ike
