#include "control/ike/sa/traffic_selectors.hh"

#include <algorithm>

namespace traverse::ike {
namespace {

constexpr uint8_t kTsIpv4 = 7;
constexpr uint8_t kTsIpv6 = 8;

Bytes address_bytes(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return Bytes(b.begin(), b.end());
  }
  auto b = a.to_v6().to_bytes();
  return Bytes(b.begin(), b.end());
}

}  // namespace

std::vector<TsRange> from_payload(const TsPayload& payload) {
  std::vector<TsRange> out;
  for (const auto& ts : payload.selectors) {
    const uint8_t type = static_cast<uint8_t>(ts.type);
    TsRange r;
    if (type == kTsIpv4 && ts.start_address.size() == 4 && ts.end_address.size() == 4) {
      r.start = asio::ip::address_v4(asio::ip::address_v4::bytes_type{
          ts.start_address[0], ts.start_address[1], ts.start_address[2], ts.start_address[3]});
      r.end = asio::ip::address_v4(asio::ip::address_v4::bytes_type{
          ts.end_address[0], ts.end_address[1], ts.end_address[2], ts.end_address[3]});
    } else if (type == kTsIpv6 && ts.start_address.size() == 16 && ts.end_address.size() == 16) {
      asio::ip::address_v6::bytes_type s{}, e{};
      std::copy(ts.start_address.begin(), ts.start_address.end(), s.begin());
      std::copy(ts.end_address.begin(), ts.end_address.end(), e.begin());
      r.start = asio::ip::address_v6(s);
      r.end = asio::ip::address_v6(e);
    } else {
      continue;
    }
    r.ip_protocol = ts.ip_protocol;
    r.start_port = ts.start_port;
    r.end_port = ts.end_port;
    if (!r.empty())
      out.push_back(r);
  }
  return out;
}

TsPayload to_payload(const std::vector<TsRange>& ranges) {
  TsPayload p;
  for (const auto& r : ranges) {
    TrafficSelector ts;
    ts.type = static_cast<decltype(ts.type)>(r.is_v4() ? kTsIpv4 : kTsIpv6);
    ts.ip_protocol = r.ip_protocol;
    ts.start_port = r.start_port;
    ts.end_port = r.end_port;
    ts.start_address = address_bytes(r.start);
    ts.end_address = address_bytes(r.end);
    p.selectors.push_back(std::move(ts));
  }
  return p;
}

std::vector<TsRange> narrow(const std::vector<TsRange>& requested,
                            const std::vector<TsRange>& allowed) {
  std::vector<TsRange> out;
  for (const auto& want : requested) {
    for (const auto& may : allowed) {
      TsRange r = intersect(want, may);
      if (!r.empty() && std::find(out.begin(), out.end(), r) == out.end())
        out.push_back(r);
    }
  }
  return out;
}

bool covered(const std::vector<TsRange>& inner, const std::vector<TsRange>& outer) {
  for (const auto& r : inner) {
    bool inside = false;
    for (const auto& o : outer) {
      if (intersect(r, o) == r)
        inside = true;
    }
    if (!inside)
      return false;
  }
  return true;
}

std::string describe(const std::vector<TsRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty())
      out += ", ";
    out += r.to_string();
  }
  return out;
}

}  // namespace traverse::ike
