// Outbound ESP: tunnel-mode encapsulation and encryption (RFC 4303 section
// 3.3), AEAD per RFC 4106 / RFC 7634, CBC + HMAC per RFC 3602 / RFC 4868.
#include <emmintrin.h>

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
// The sizes all AEAD transforms share (RFC 4106, RFC 7634).
constexpr uint32_t kAeadIvLen = 8;
constexpr uint32_t kAeadIcvLen = 16;
constexpr uint32_t kAeadBlockSize = 4;

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
  sa->lean_ = info.aead && info.iv_len == kAeadIvLen && info.icv_len == kAeadIcvLen &&
              info.block_size == kAeadBlockSize && sa->outer_.version() == 4;
  return sa;
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

template <bool kLean>
Status OutboundSa::seal(crypto::ThreadContext& thread, PacketBuffer& pkt, uint8_t next_header,
                        uint8_t tos, bool inner_df) {
  // Every field this packet needs is read into a local first: the byte
  // stores below may alias any of them, which would make the compiler read
  // them again after each one.
  const uint64_t seq = next_sequence_;
  if (seq > sequence_limit_) {
    return Status::sequence_exhausted;
  }
  // The lean case knows its sizes: every AEAD transform has an 8-byte IV, a
  // 16-byte ICV and pads to 4 bytes.
  const uint32_t iv_len = kLean ? kAeadIvLen : iv_len_;
  const uint32_t icv_len = kLean ? kAeadIcvLen : icv_len_;
  const uint32_t block_size = kLean ? kAeadBlockSize : block_size_;
  const uint32_t outer_len = outer_.length();
  const uint32_t front = outer_len + kEspHeaderOverhead + iv_len;
  const uint32_t inner_len = pkt.length();
  // RFC 4303 section 2.4: payload + trailer end on a block boundary.
  const uint32_t pad_len = (0u - (inner_len + kTrailerLen)) & (block_size - 1u);
  const uint32_t payload_len = inner_len + pad_len + kTrailerLen;  // what gets encrypted
  const uint32_t back = pad_len + kTrailerLen + icv_len;
  const uint32_t esp_len = kEspHeaderOverhead + iv_len + payload_len + icv_len;
  if (outer_len + esp_len > kMaxIpLength) {
    return Status::too_big;
  }
  if (pkt.headroom() < front) {
    return Status::no_headroom;
  }
  if (pkt.tailroom() < back) {
    return Status::no_tailroom;
  }
  uint8_t* head = pkt.grow(front, back);
  next_sequence_ = seq + 1;
  uint8_t* esp = head + outer_len;
  uint8_t* iv = esp + kEspHeaderOverhead;
  uint8_t* payload = iv + iv_len;
  uint8_t* trailer = payload + inner_len;
  uint8_t* icv = payload + payload_len;
  // On the wire: SPI and the sequence number's low 32 bits, then the IV,
  // which starts with the 64-bit sequence number; all big-endian. The AEAD
  // cipher reads the AAD from here (the IV it takes by value), CBC the nonce
  // block, with 16-byte loads that a store forwards only if it covers them
  // whole: each is one store.
  const uint64_t header = static_cast<uint64_t>(__builtin_bswap32(static_cast<uint32_t>(seq)))
                              << 32 |
                          __builtin_bswap32(spi_);
  const uint64_t seq_be = __builtin_bswap64(seq);
  if (kLean || aead_) {
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(esp),
        _mm_set_epi64x(static_cast<long long>(seq_be), static_cast<long long>(header)));
  } else {
    // CBC needs an unpredictable IV (RFC 3602 section 2.3). NIST SP 800-38A
    // appendix C: encrypt a nonce under the data key. Putting the nonce
    // (sequence number, SPI, zero) in the IV field and CBC-encrypting it as
    // the first block with a zero IV does exactly that in the same cipher
    // call: the first ciphertext block becomes the IV for the rest.
    std::memcpy(esp, &header, sizeof header);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(iv),
                     _mm_set_epi64x(__builtin_bswap32(spi_), static_cast<long long>(seq_be)));
  }
  // Always 16 pattern bytes (a constant-size copy), then pad length and next
  // header as one 2-byte store; the ICV overwrites what lies past them. The
  // tailroom holds pad + 2 + ICV, at least 18 bytes.
  std::memcpy(trailer, kPadBytes, sizeof kPadBytes);
  const auto tail = static_cast<uint16_t>(pad_len | static_cast<uint32_t>(next_header) << 8);
  std::memcpy(trailer + pad_len, &tail, sizeof tail);

  if (kLean || aead_) {
    // RFC 4106 section 3.1: the explicit IV (written above) must never repeat
    // for a key; the 64-bit sequence number never does (we refuse to wrap).
    if (!esn_) {
      cipher_->aead_seal(thread, seq_be, esp, kEspHeaderOverhead, payload, payload_len, icv);
    } else {
      // RFC 4106 section 5: SPI || high 32 bits || low 32 bits, also stored
      // whole.
      alignas(16) uint8_t aad[16];
      _mm_store_si128(
          reinterpret_cast<__m128i*>(aad),
          _mm_set_epi32(0, static_cast<int>(__builtin_bswap32(static_cast<uint32_t>(seq))),
                        static_cast<int>(__builtin_bswap32(static_cast<uint32_t>(seq >> 32))),
                        static_cast<int>(__builtin_bswap32(spi_))));
      cipher_->aead_seal(thread, seq_be, aad, 12, payload, payload_len, icv);
    }
  } else {
    cipher_->cbc_encrypt(thread, kZeroIv, iv, iv_len + payload_len);
    const uint32_t auth_len = kEspHeaderOverhead + iv_len + payload_len;
    if (!esn_) {
      cipher_->hmac(thread, esp, auth_len, icv, icv_len);
    } else {
      // RFC 4303 section 2.2.1: the high 32 bits are authenticated as if they
      // followed the payload, but not sent. The ICV slot holds them meanwhile.
      uint8_t mac[32];
      store_be32(icv, static_cast<uint32_t>(seq >> 32));
      cipher_->hmac(thread, esp, auth_len + 4, mac, icv_len);
      std::memcpy(icv, mac, icv_len);
    }
  }
  // After the cipher: an IPv6 UDP checksum covers the ciphertext and ICV, and
  // work placed here overlaps the end of the cipher's computation.
  if constexpr (kLean) {
    outer_.write_ipv4(head, esp_len, tos, inner_df, static_cast<uint16_t>(seq));
  } else {
    outer_.write(head, esp_len, tos, inner_df, static_cast<uint16_t>(seq));
  }
  return Status::ok;
}

}  // namespace traverse::esp
