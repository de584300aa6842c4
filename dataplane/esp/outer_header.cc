#include "dataplane/esp/outer_header.hh"

#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/outer_parse.hh"
#include "dataplane/esp/udp_encap.hh"

namespace traverse::esp {

void OuterHeader::build(const SaConfig& config) {
  endpoints_.local = config.local;
  endpoints_.remote = config.remote;
  endpoints_.udp_encap = config.udp_encap;
  endpoints_.local_port = config.local_port;
  endpoints_.remote_port = config.remote_port;
  endpoints_.ttl = config.ttl;
  endpoints_.df = config.df;
  rebuild();
}

void OuterHeader::set_remote(const IpAddress& remote, uint16_t port) {
  endpoints_.remote = remote;
  endpoints_.remote_port = port;
  rebuild();
}

void OuterHeader::rebuild() {
  std::memset(bytes_, 0, sizeof bytes_);
  version_ = endpoints_.local.version;
  udp_ = endpoints_.udp_encap;
  const uint8_t protocol = udp_ ? kIpProtoUdp : kIpProtoEsp;
  uint32_t ip_len = 0;
  if (version_ == 4) {
    ip_len = kIpv4HeaderLen;
    bytes_[0] = 0x45;
    bytes_[8] = endpoints_.ttl;
    bytes_[9] = protocol;
    std::memcpy(bytes_ + 12, endpoints_.local.bytes.data(), 4);
    std::memcpy(bytes_ + 16, endpoints_.remote.bytes.data(), 4);
    v4_sum_ = checksum_partial(bytes_, kIpv4HeaderLen);
    std::memcpy(&v4_word1_, bytes_ + 8, sizeof v4_word1_);
    std::memcpy(&v4_dst_, bytes_ + 16, sizeof v4_dst_);
  } else {
    ip_len = kIpv6HeaderLen;
    bytes_[0] = 0x60;
    bytes_[6] = protocol;
    bytes_[7] = endpoints_.ttl;
    std::memcpy(bytes_ + 8, endpoints_.local.bytes.data(), 16);
    std::memcpy(bytes_ + 24, endpoints_.remote.bytes.data(), 16);
    pseudo_sum_ = checksum_partial(bytes_ + 8, 32);
  }
  if (udp_) {
    store_be16(bytes_ + ip_len, endpoints_.local_port);
    store_be16(bytes_ + ip_len + 2, endpoints_.remote_port);
  }
  std::memcpy(&udp_ports_, bytes_ + ip_len, sizeof udp_ports_);
  df_ = endpoints_.df;
  length_ = static_cast<uint8_t>(ip_len + (udp_ ? kUdpHeaderLen : 0));
}

void OuterHeader::write_ipv6(uint8_t* dst, uint32_t esp_len, uint8_t tos) const {
  // Constant-size copies: the compiler emits a few vector moves, not a call.
  if (udp_) {
    std::memcpy(dst, bytes_, kIpv6HeaderLen + kUdpHeaderLen);
  } else {
    std::memcpy(dst, bytes_, kIpv6HeaderLen);
  }
  // IPv6: version 6, traffic class from the inner packet, flow label zero.
  store_be16(dst, static_cast<uint16_t>(0x6000u | (static_cast<uint16_t>(tos) << 4)));
  const uint32_t payload_len = (udp_ ? kUdpHeaderLen : 0) + esp_len;
  store_be16(dst + 4, static_cast<uint16_t>(payload_len));
  if (udp_) {
    uint8_t* udp = dst + kIpv6HeaderLen;
    store_be16(udp + 4, static_cast<uint16_t>(payload_len));
    // A zero UDP checksum is not allowed over IPv6 (RFC 8200 section 8.1).
    uint8_t pseudo_tail[8] = {};
    store_be32(pseudo_tail, payload_len);
    pseudo_tail[7] = kIpProtoUdp;
    uint32_t sum = checksum_partial(pseudo_tail, sizeof pseudo_tail, pseudo_sum_);
    sum = checksum_partial(udp, payload_len, sum);
    uint16_t folded = checksum_finish(sum);
    if (folded == 0) {
      folded = 0xffff;
    }
    std::memcpy(udp + 6, &folded, 2);
  }
}

}  // namespace traverse::esp
