// Outbound ESP: tunnel-mode encapsulation and encryption (RFC 4303 section
// 3.3), AEAD per RFC 4106 / RFC 7634, CBC + HMAC per RFC 3602 / RFC 4868.
#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/outer_parse.hh"

namespace traverse::esp {
namespace {

// RFC 4303 section 2.4: the default padding bytes are 1, 2, 3, ...
constexpr uint8_t kPadBytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr uint8_t kZeroIv[16] = {};
constexpr uint32_t kMaxIpLength = 65535;

}  // namespace

std::unique_ptr<OutboundSa> OutboundSa::create(const SaConfig& config, std::string* error) {
  if (std::string why = config.validate(); !why.empty()) {
    *error = why;
    return nullptr;
  }
  const crypto::TransformInfo info = crypto::transform_info(config.transform);
  auto cipher = crypto::CipherSession::create(
      config.backend, config.transform, {config.cipher_key, config.salt, config.auth_key}, error);
  if (!cipher) {
    return nullptr;
  }
  std::unique_ptr<OutboundSa> sa(new OutboundSa());
  sa->cipher_ = std::move(cipher);
  sa->spi_ = config.spi;
  sa->esn_ = config.esn;
  sa->next_sequence_ = config.first_sequence;
  // The counter must never wrap: with ESN the last usable number is one
  // below the top so that next_sequence_ can step past it without overflow.
  sa->sequence_limit_ = config.esn ? UINT64_MAX - 1 : UINT32_MAX;
  sa->iv_len_ = info.iv_len;
  sa->icv_len_ = info.icv_len;
  sa->block_size_ = info.block_size;
  sa->aead_ = info.aead;
  sa->outer_.build(config);
  sa->prepare_next();
  return sa;
}

void OutboundSa::prepare_next() {
  const uint64_t seq = next_sequence_;
  store_be32(prepared_.aad, spi_);
  store_be32(prepared_.aad + 4, static_cast<uint32_t>(seq));
  store_be64(prepared_.iv, seq);
  store_be32(prepared_.esn_aad, spi_);
  store_be64(prepared_.esn_aad + 4, seq);
}

uint32_t OutboundSa::max_inner_length(uint32_t path_mtu) const {
  const uint32_t fixed = headroom() + icv_len_ + kTrailerLen;
  if (path_mtu <= fixed + block_size_) {
    return 0;
  }
  // The ciphertext (inner + padding + trailer) is rounded down to a block.
  return ((path_mtu - headroom() - icv_len_) & ~(block_size_ - 1u)) - kTrailerLen;
}

Status OutboundSa::encrypt(crypto::ThreadContext& thread, PacketBuffer& pkt) {
  if (pkt.length() == 0) {
    return Status::unsupported_inner;
  }
  const uint8_t* inner = pkt.data();
  switch (inner[0] >> 4) {
    case 4:
      if (pkt.length() < kIpv4HeaderLen) {
        return Status::unsupported_inner;
      }
      return seal(thread, pkt, kIpProtoIpv4, inner[1], (inner[6] & 0x40) != 0);
    case 6:
      if (pkt.length() < kIpv6HeaderLen) {
        return Status::unsupported_inner;
      }
      return seal(thread, pkt, kIpProtoIpv6, static_cast<uint8_t>(load_be16(inner) >> 4), true);
    default:
      return Status::unsupported_inner;
  }
}

Status OutboundSa::encrypt_dummy(crypto::ThreadContext& thread, PacketBuffer& pkt,
                                 uint32_t payload_len) {
  pkt.trim_back(pkt.length());
  uint8_t* payload = pkt.append(payload_len);
  if (payload == nullptr) {
    return Status::no_tailroom;
  }
  std::memset(payload, 0, payload_len);
  const Status status = seal(thread, pkt, kIpProtoNoNext, 0, true);
  if (status != Status::ok) {
    pkt.trim_back(pkt.length());
  }
  return status;
}

Status OutboundSa::seal(crypto::ThreadContext& thread, PacketBuffer& pkt, uint8_t next_header,
                        uint8_t tos, bool inner_df) {
  if (next_sequence_ > sequence_limit_) {
    return Status::sequence_exhausted;
  }
  const uint32_t inner_len = pkt.length();
  const uint32_t pad_len = pad_length(inner_len);
  const uint32_t payload_len = inner_len + pad_len + kTrailerLen;  // what gets encrypted
  const uint32_t esp_len = kEspHeaderOverhead + iv_len_ + payload_len + icv_len_;
  if (outer_.length() + esp_len > kMaxIpLength) {
    return Status::too_big;
  }
  if (pkt.headroom() < headroom()) {
    return Status::no_headroom;
  }
  uint8_t* trailer = pkt.append(pad_len + kTrailerLen + icv_len_);
  if (trailer == nullptr) {
    return Status::no_tailroom;
  }
  uint8_t* head = pkt.prepend(headroom());
  uint8_t* esp = head + outer_.length();
  const uint64_t seq = next_sequence_++;
  uint8_t* iv = esp + kEspHeaderOverhead;
  uint8_t* payload = iv + iv_len_;
  // On the wire: SPI, sequence number, IV. The cipher takes its AAD and IV
  // from prepared_, written during the previous packet.
  store_be64(esp, (static_cast<uint64_t>(spi_) << 32) | static_cast<uint32_t>(seq));
  store_be64(iv, seq);
  // Always 16 pattern bytes (a constant-size copy); the trailer and the ICV
  // overwrite what lies past the padding. The tailroom holds pad + 2 + ICV,
  // at least 18 bytes.
  std::memcpy(trailer, kPadBytes, sizeof kPadBytes);
  trailer[pad_len] = static_cast<uint8_t>(pad_len);
  trailer[pad_len + 1] = next_header;
  uint8_t* icv = trailer + pad_len + kTrailerLen;

  if (aead_) {
    // RFC 4106 section 3.1: the explicit IV (written above) must never repeat
    // for a key; the 64-bit sequence number never does (we refuse to wrap).
    if (!esn_) {
      cipher_->aead_seal(thread, prepared_.iv, prepared_.aad, sizeof prepared_.aad, payload,
                         payload_len, icv);
    } else {
      cipher_->aead_seal(thread, prepared_.iv, prepared_.esn_aad, sizeof prepared_.esn_aad, payload,
                         payload_len, icv);
    }
  } else {
    // CBC needs an unpredictable IV (RFC 3602 section 2.3). NIST SP 800-38A
    // appendix C: encrypt a nonce under the data key. Putting the nonce in the
    // IV field and CBC-encrypting it as the first block with a zero IV does
    // exactly that in the same cipher call: the first ciphertext block becomes
    // the IV for the rest.
    store_be32(iv + 8, spi_);
    store_be32(iv + 12, 0);
    cipher_->cbc_encrypt(thread, kZeroIv, iv, iv_len_ + payload_len);
    const uint32_t auth_len = kEspHeaderOverhead + iv_len_ + payload_len;
    if (!esn_) {
      cipher_->hmac(thread, esp, auth_len, icv, icv_len_);
    } else {
      // RFC 4303 section 2.2.1: the high 32 bits are authenticated as if they
      // followed the payload, but not sent. The ICV slot holds them meanwhile.
      uint8_t mac[32];
      store_be32(icv, static_cast<uint32_t>(seq >> 32));
      cipher_->hmac(thread, esp, auth_len + 4, mac, icv_len_);
      std::memcpy(icv, mac, icv_len_);
    }
  }
  outer_.write(head, esp_len, tos, inner_df, static_cast<uint16_t>(seq));
  prepare_next();
  return Status::ok;
}

}  // namespace traverse::esp
