#include "dataplane/esp/outer_header.hh"

#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/outer_parse.hh"
#include "dataplane/esp/udp_encap.hh"

namespace traverse::esp {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "write() adds header fields as little-endian 16-bit words");

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
  length_ = static_cast<uint8_t>(ip_len + (udp_ ? kUdpHeaderLen : 0));
}

void OuterHeader::write(uint8_t* dst, uint32_t esp_len, uint8_t tos, bool inner_df,
                        uint16_t ip_id) const {
  // Constant-size copies: the compiler emits a few vector moves, not a call.
  switch (length_) {
    case kIpv4HeaderLen:
      std::memcpy(dst, bytes_, kIpv4HeaderLen);
      break;
    case kIpv4HeaderLen + kUdpHeaderLen:
      std::memcpy(dst, bytes_, kIpv4HeaderLen + kUdpHeaderLen);
      break;
    case kIpv6HeaderLen:
      std::memcpy(dst, bytes_, kIpv6HeaderLen);
      break;
    default:
      std::memcpy(dst, bytes_, kIpv6HeaderLen + kUdpHeaderLen);
      break;
  }
  if (version_ == 4) {
    const auto total = static_cast<uint16_t>(length_ + esp_len);
    const bool df = endpoints_.df == DfMode::set || (endpoints_.df == DfMode::copy && inner_df);
    dst[1] = tos;
    store_be16(dst + 2, total);
    store_be16(dst + 4, ip_id);
    dst[6] = df ? 0x40 : 0x00;
    // The sum over memory-order 16-bit words (little-endian loads), as
    // checksum_partial computes it: the template plus this packet's fields.
    uint32_t sum = v4_sum_ + (static_cast<uint32_t>(tos) << 8) + __builtin_bswap16(total) +
                   __builtin_bswap16(ip_id) + (df ? 0x0040u : 0u);
    const uint16_t folded = checksum_finish(sum);
    std::memcpy(dst + 10, &folded, 2);
    if (udp_) {
      // RFC 3948 section 2.1: the UDP checksum over IPv4 is sent as zero.
      store_be16(dst + kIpv4HeaderLen + 4, static_cast<uint16_t>(kUdpHeaderLen + esp_len));
    }
    return;
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
