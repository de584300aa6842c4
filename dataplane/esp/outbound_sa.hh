// The runtime state of one outbound ESP SA in tunnel mode (RFC 4303): the
// cipher session, the prebuilt outer header and the sequence counter. Owned
// and used by one thread (the SA's worker); encrypt() neither allocates, locks,
// logs nor throws. Destroying it wipes the keys (through CipherSession).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/esp/outer_header.hh"
#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"
#include "dataplane/esp/status.hh"
#include "drivers/crypto/cipher_session.hh"

namespace traverse::esp {

class OutboundSa {
 public:
  // nullptr with the reason in `error` when the config does not validate.
  static std::unique_ptr<OutboundSa> create(const SaConfig& config, std::string* error);

  // Turns the inner IPv4/IPv6 packet in `pkt` into the complete outer packet
  // (outer IP [+ UDP] + ESP), in place. Needs headroom() in front and
  // tailroom_for(inner length) behind. On failure `pkt` is unchanged.
  Status encrypt(crypto::ThreadContext& thread, PacketBuffer& pkt);
  // Replaces the contents of `pkt` with a dummy ESP packet (next header 59)
  // whose plaintext is `payload_len` zero bytes: PMTU probes and TFC.
  Status encrypt_dummy(crypto::ThreadContext& thread, PacketBuffer& pkt, uint32_t payload_len);

  uint32_t spi() const { return spi_; }
  uint64_t next_sequence() const { return next_sequence_; }
  // Sequence numbers left before the space is used up (rekey before zero).
  uint64_t sequence_remaining() const { return sequence_limit_ - next_sequence_ + 1; }
  bool esn() const { return esn_; }

  // Bytes needed in front of the inner packet: outer headers, ESP header, IV.
  uint32_t headroom() const { return outer_.length() + kEspHeaderOverhead + iv_len_; }
  // Bytes needed behind an inner packet of `inner_len`: padding, trailer, ICV.
  uint32_t tailroom_for(uint32_t inner_len) const {
    return pad_length(inner_len) + kTrailerLen + icv_len_;
  }
  // The largest inner packet whose ESP packet fits in `path_mtu` bytes of
  // outer IP packet: what ICMP "fragmentation needed" reports and MSS uses.
  uint32_t max_inner_length(uint32_t path_mtu) const;

  // The peer moved (NAT mapping changed): send to its new address and port.
  void set_remote(const IpAddress& remote, uint16_t port) { outer_.set_remote(remote, port); }
  const OuterHeader& outer_header() const { return outer_; }

  // This SA and its cipher session's hot memory (crypto::MemoryRegion): at
  // most crypto::kMaxHotRegions entries, for the dataplane's burst prefetch.
  uint32_t hot_regions(crypto::MemoryRegion* out) const {
    out[0] = {this, sizeof(*this)};
    return 1 + cipher_->hot_regions(out + 1);
  }

 private:
  static constexpr uint32_t kEspHeaderOverhead = 8;  // SPI + sequence number
  static constexpr uint32_t kTrailerLen = 2;         // pad length + next header

  OutboundSa() = default;
  uint32_t pad_length(uint32_t inner_len) const {
    // RFC 4303 section 2.4: payload + trailer end on a block boundary.
    return (0u - (inner_len + kTrailerLen)) & (block_size_ - 1u);
  }
  // Encapsulates and encrypts. kLean is the common case, chosen when the SA
  // is installed: an AEAD transform (sizes known at compile time) under an
  // IPv4 outer header (written inline). In an encrypt loop the ESP core's
  // instructions add to the cipher's time rather than overlap it, so the
  // common case is kept short.
  Status seal(crypto::ThreadContext& thread, PacketBuffer& pkt, uint8_t next_header, uint8_t tos,
              bool inner_df) {
    return lean_ ? seal<true>(thread, pkt, next_header, tos, inner_df)
                 : seal<false>(thread, pkt, next_header, tos, inner_df);
  }
  template <bool kLean>
  Status seal(crypto::ThreadContext& thread, PacketBuffer& pkt, uint8_t next_header, uint8_t tos,
              bool inner_df);

  std::unique_ptr<crypto::CipherSession> cipher_;
  uint64_t next_sequence_ = 1;
  uint64_t sequence_limit_ = 0;  // the last sequence number that may be sent
  uint32_t spi_ = 0;
  uint8_t iv_len_ = 0;
  uint8_t icv_len_ = 0;
  uint8_t block_size_ = 4;
  bool aead_ = true;
  bool esn_ = false;
  bool lean_ = false;  // seal<true> applies: AEAD, IPv4 outer
  OuterHeader outer_;
};

}  // namespace traverse::esp
