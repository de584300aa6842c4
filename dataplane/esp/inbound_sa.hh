// The runtime state of one inbound ESP SA in tunnel mode (RFC 4303): cipher
// session and anti-replay window. Owned and used by one thread; decrypt()
// neither allocates, locks, logs nor throws. Destroying it wipes the keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/esp/outer_parse.hh"
#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/replay_window.hh"
#include "dataplane/esp/sa_config.hh"
#include "dataplane/esp/status.hh"
#include "drivers/crypto/cipher_session.hh"

namespace traverse::esp {

struct DecryptResult {
  uint8_t inner_version = 0;  // 4 or 6 when the status is ok
  uint64_t sequence = 0;      // the full (ESN-inferred) sequence number
};

class InboundSa {
 public:
  static std::unique_ptr<InboundSa> create(const SaConfig& config, std::string* error);

  // `pkt` holds the outer packet and `outer` its parse (parse_outer gave ok).
  // On ok, `pkt` holds exactly the inner IP packet. On any other status the
  // replay window is untouched unless the ICV verified (bad_padding,
  // unknown_next_header, bad_inner_packet and dummy come after it).
  Status decrypt(crypto::ThreadContext& thread, PacketBuffer& pkt, const OuterView& outer,
                 DecryptResult* result);
  // Parses the outer header itself, accepting ESP in UDP on the SA's local port.
  Status decrypt(crypto::ThreadContext& thread, PacketBuffer& pkt, DecryptResult* result);

  uint32_t spi() const { return spi_; }
  bool esn() const { return esn_; }
  const ReplayWindow& replay_window() const { return replay_; }
  ReplayWindow& replay_window() { return replay_; }

  // This SA and its cipher session's hot memory (crypto::MemoryRegion): at
  // most crypto::kMaxHotRegions entries, for the dataplane's burst prefetch.
  uint32_t hot_regions(crypto::MemoryRegion* out) const {
    out[0] = {this, sizeof(*this)};
    return 1 + cipher_->hot_regions(out + 1);
  }

 private:
  static constexpr uint32_t kTrailerLen = 2;

  explicit InboundSa(uint32_t window) : replay_(window) {}
  bool authenticate_and_decrypt(crypto::ThreadContext& thread, uint8_t* esp, uint32_t payload_len,
                                uint64_t seq);

  std::unique_ptr<crypto::CipherSession> cipher_;
  uint32_t spi_ = 0;
  uint16_t encap_port_ = 0;
  uint8_t iv_len_ = 0;
  uint8_t icv_len_ = 0;
  uint8_t block_size_ = 4;
  bool aead_ = true;
  bool esn_ = false;
  ReplayWindow replay_;
};

}  // namespace traverse::esp
