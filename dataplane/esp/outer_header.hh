// The prebuilt outer IPv4/IPv6 (+ UDP) header of an outbound SA. Built once
// when the SA is installed (or its peer moves); per packet only the lengths,
// TOS/traffic class, DF, ID and checksums are filled in.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/esp/sa_config.hh"

namespace traverse::esp {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "write() builds header words and sums them as little-endian integers");

// A 16-bit value's two bytes swapped, computed as a 32-bit swap: for
// __builtin_bswap16 GCC (-march=znver*) may go through a stack slot with
// movbe, a store and a load per field.
inline uint32_t swap16(uint32_t v) {
  return __builtin_bswap32(v) >> 16;
}

class OuterHeader {
 public:
  static constexpr uint32_t kMaxLength = 40 + 8;

  void build(const SaConfig& config);
  // Moves the remote end (NAT mapping changed): rebuilds the template.
  void set_remote(const IpAddress& remote, uint16_t port);

  uint32_t length() const { return length_; }
  uint8_t version() const { return version_; }

  // Writes the headers at `dst` for an ESP packet of `esp_len` bytes that
  // follows them directly. `tos` is the inner DSCP/ECN byte; `inner_df`
  // the inner IPv4 DF bit (DfMode::copy).
  void write(uint8_t* dst, uint32_t esp_len, uint8_t tos, bool inner_df, uint16_t ip_id) const {
    if (version_ == 4) {
      write_ipv4(dst, esp_len, tos, inner_df, ip_id);
    } else {
      write_ipv6(dst, esp_len, tos);
    }
  }

  // write() for a header known to be IPv4 (version() == 4). Built in
  // registers and stored once per word: two 8-byte words, the destination
  // address and (ESP in UDP) the UDP header. Between two cipher calls every
  // instruction and store of the ESP core adds to a packet's time; copying
  // the template and patching it with five narrow stores cost more.
  void write_ipv4(uint8_t* dst, uint32_t esp_len, uint8_t tos, bool inner_df,
                  uint16_t ip_id) const {
    const auto total = static_cast<uint16_t>(length_ + esp_len);
    const bool df = df_ == DfMode::set || (df_ == DfMode::copy && inner_df);
    // Memory order, little-endian words: version/IHL, TOS, total length,
    // ID, flags (DF) and a zero fragment offset.
    const uint64_t w0 =
        0x45u | static_cast<uint64_t>(tos) << 8 | static_cast<uint64_t>(swap16(total)) << 16 |
        static_cast<uint64_t>(swap16(ip_id)) << 32 | (df ? uint64_t{0x40} << 48 : 0);
    // The template's sum has TOS, length, ID and flags zero (v4_sum_); add
    // this packet's, as 16-bit memory-order words, then fold.
    uint32_t sum = v4_sum_ + (static_cast<uint32_t>(tos) << 8) + swap16(total) + swap16(ip_id) +
                   (df ? 0x0040u : 0u);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const uint64_t w1 = v4_word1_ | static_cast<uint64_t>(static_cast<uint16_t>(~sum)) << 16;
    std::memcpy(dst, &w0, 8);
    std::memcpy(dst + 8, &w1, 8);
    std::memcpy(dst + 16, &v4_dst_, 4);
    if (udp_) {
      // RFC 3948 section 2.1: the UDP checksum over IPv4 is sent as zero.
      const auto udp_len = static_cast<uint16_t>(8 + esp_len);
      const uint64_t udp = udp_ports_ | static_cast<uint64_t>(swap16(udp_len)) << 32;
      std::memcpy(dst + 20, &udp, 8);
    }
  }

 private:
  void rebuild();
  void write_ipv6(uint8_t* dst, uint32_t esp_len, uint8_t tos) const;

  // What write_ipv4() reads per packet, together at the front.
  uint64_t v4_word1_ = 0;  // IPv4 bytes 8-15: TTL, protocol, zero checksum, source
  uint32_t v4_dst_ = 0;    // IPv4 bytes 16-19, memory order
  // IPv4: the template's checksum sum with TOS, length, ID and flags zero, so
  // a packet adds its own fields in registers instead of re-reading the header.
  uint32_t v4_sum_ = 0;
  uint32_t udp_ports_ = 0;  // the UDP header's first 4 bytes, memory order
  uint8_t length_ = 0;
  uint8_t version_ = 0;
  bool udp_ = false;
  DfMode df_ = DfMode::set;
  uint32_t pseudo_sum_ = 0;         // IPv6 pseudo-header addresses, for the UDP checksum
  uint8_t bytes_[kMaxLength] = {};  // the template, which IPv6 copies whole

  struct Endpoints {
    IpAddress local;
    IpAddress remote;
    bool udp_encap = false;
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
    uint8_t ttl = 0;
    DfMode df = DfMode::set;
  };
  Endpoints endpoints_;  // the configuration the template was built from
};

}  // namespace traverse::esp
