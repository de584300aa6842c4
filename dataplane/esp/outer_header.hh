// The prebuilt outer IPv4/IPv6 (+ UDP) header of an outbound SA. Built once
// when the SA is installed (or its peer moves); per packet only the lengths,
// TOS/traffic class, DF, ID and checksums are filled in.
#pragma once

#include <cstdint>

#include "dataplane/esp/sa_config.hh"

namespace traverse::esp {

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
  void write(uint8_t* dst, uint32_t esp_len, uint8_t tos, bool inner_df, uint16_t ip_id) const;

 private:
  void rebuild();

  struct Endpoints {
    IpAddress local;
    IpAddress remote;
    bool udp_encap = false;
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
    uint8_t ttl = 0;
    DfMode df = DfMode::set;
  };

  Endpoints endpoints_;
  uint8_t bytes_[kMaxLength] = {};
  uint32_t pseudo_sum_ = 0;  // IPv6 pseudo-header addresses, for the UDP checksum
  // IPv4: the template's checksum sum with TOS, length, ID and flags zero, so
  // a packet adds its own fields in registers instead of re-reading the header.
  uint32_t v4_sum_ = 0;
  uint8_t length_ = 0;
  uint8_t version_ = 0;
  bool udp_ = false;
};

}  // namespace traverse::esp
