// Inbound ESP: tunnel-mode verification, decryption and decapsulation (RFC
// 4303 section 3.4). The replay window is checked before any crypto and moved
// only after the ICV verified (section 3.4.3).
#include <emmintrin.h>
#include <openssl/crypto.h>

#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/ecn.hh"
#include "dataplane/esp/inbound_sa.hh"

namespace traverse::esp {
namespace {

// RFC 4303 section 2.4: the padding must be 1, 2, 3, ... A CBC packet
// carries up to 15 bytes of it, which a byte loop checked at ~1 ns a byte;
// up to 16 are compared at once. Reading 16 bytes at `pad` stays inside the
// packet: the trailer (2 bytes) and the ICV (at least 16) follow it.
bool padding_ok(const uint8_t* pad, uint32_t pad_len) {
  static constexpr uint8_t kPattern[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const uint32_t first = pad_len < 16 ? pad_len : 16;
  const __m128i got = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pad));
  const __m128i want = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPattern));
  const auto equal = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(got, want)));
  const uint32_t needed = (1u << first) - 1u;
  if ((equal & needed) != needed) {
    return false;
  }
  for (uint32_t i = 16; i < pad_len; ++i) {  // RFC 4303 allows up to 255
    if (pad[i] != static_cast<uint8_t>(i + 1)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::unique_ptr<InboundSa> InboundSa::create(const SaConfig& config, std::string* error) {
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
  std::unique_ptr<InboundSa> sa(new InboundSa(config.replay_window));
  sa->cipher_ = std::move(cipher);
  sa->spi_ = config.spi;
  sa->esn_ = config.esn;
  sa->encap_port_ = config.local_port;
  sa->iv_len_ = info.iv_len;
  sa->icv_len_ = info.icv_len;
  sa->block_size_ = info.block_size;
  sa->aead_ = info.aead;
  return sa;
}

Status InboundSa::decrypt(crypto::ThreadContext& thread, PacketBuffer& pkt, DecryptResult* result) {
  OuterView outer;
  const Status status = parse_outer(pkt, encap_port_, &outer);
  if (status != Status::ok) {
    return status;
  }
  return decrypt(thread, pkt, outer, result);
}

bool InboundSa::authenticate_and_decrypt(crypto::ThreadContext& thread, uint8_t* esp,
                                         uint32_t payload_len, uint64_t seq) {
  uint8_t* iv = esp + kEspHeaderLen;
  uint8_t* payload = iv + iv_len_;
  uint8_t* icv = payload + payload_len;
  if (aead_) {
    if (!esn_) {
      return cipher_->aead_open(thread, iv, esp, kEspHeaderLen, payload, payload_len, icv);
    }
    uint8_t aad[12];
    store_be32(aad, spi_);
    store_be64(aad + 4, seq);
    return cipher_->aead_open(thread, iv, aad, sizeof aad, payload, payload_len, icv);
  }
  // Encrypt-then-MAC: verify before touching the ciphertext.
  uint8_t expected[32];
  uint8_t received[32];
  const uint32_t auth_len = kEspHeaderLen + iv_len_ + payload_len;
  std::memcpy(received, icv, icv_len_);
  if (!esn_) {
    cipher_->hmac(thread, esp, auth_len, expected, icv_len_);
  } else {
    // The high 32 bits are authenticated after the payload (RFC 4303 section
    // 2.2.1); the received ICV's slot holds them while the MAC runs.
    store_be32(icv, static_cast<uint32_t>(seq >> 32));
    cipher_->hmac(thread, esp, auth_len + 4, expected, icv_len_);
  }
  if (CRYPTO_memcmp(expected, received, icv_len_) != 0) {
    return false;
  }
  cipher_->cbc_decrypt(thread, iv, payload, payload_len);
  return true;
}

Status InboundSa::decrypt(crypto::ThreadContext& thread, PacketBuffer& pkt, const OuterView& outer,
                          DecryptResult* result) {
  if (outer.spi != spi_) {
    return Status::spi_mismatch;
  }
  const uint32_t fixed = kEspHeaderLen + iv_len_ + icv_len_;
  if (outer.esp_offset > pkt.length() || pkt.length() - outer.esp_offset < fixed + block_size_) {
    return Status::too_short;
  }
  uint8_t* esp = pkt.data() + outer.esp_offset;
  const uint32_t payload_len = pkt.length() - outer.esp_offset - fixed;
  if ((payload_len & (block_size_ - 1u)) != 0) {
    return Status::bad_length;
  }

  uint64_t seq = 0;
  switch (replay_.check(load_be32(esp + 4), esn_, &seq)) {
    case ReplayVerdict::accept:
      break;
    case ReplayVerdict::zero:
      return Status::bad_sequence;
    case ReplayVerdict::duplicate:
      return Status::replay_duplicate;
    case ReplayVerdict::too_old:
      return Status::replay_too_old;
  }
  if (!authenticate_and_decrypt(thread, esp, payload_len, seq)) {
    return Status::bad_icv;
  }
  replay_.update(seq);
  result->sequence = seq;

  uint8_t* payload = esp + kEspHeaderLen + iv_len_;
  const uint8_t next_header = payload[payload_len - 1];
  const uint8_t pad_len = payload[payload_len - 2];
  if (pad_len + kTrailerLen > payload_len) {
    return Status::bad_padding;
  }
  const uint32_t inner_space = payload_len - kTrailerLen - pad_len;
  if (!padding_ok(payload + inner_space, pad_len)) {
    return Status::bad_padding;
  }
  uint8_t version = 0;
  uint32_t inner_len = 0;
  switch (next_header) {
    case kIpProtoIpv4:
      if (inner_space < kIpv4HeaderLen || (payload[0] >> 4) != 4) {
        return Status::bad_inner_packet;
      }
      version = 4;
      inner_len = load_be16(payload + 2);
      if (inner_len < (payload[0] & 0x0fu) * 4u || (payload[0] & 0x0fu) < 5) {
        return Status::bad_inner_packet;
      }
      break;
    case kIpProtoIpv6:
      if (inner_space < kIpv6HeaderLen || (payload[0] >> 4) != 6) {
        return Status::bad_inner_packet;
      }
      version = 6;
      inner_len = kIpv6HeaderLen + load_be16(payload + 4);
      break;
    case kIpProtoNoNext:
      return Status::dummy;
    default:
      return Status::unknown_next_header;
  }
  // The inner packet may be shorter than the space (TFC padding, RFC 4303
  // section 2.7) but never longer.
  if (inner_len > inner_space) {
    return Status::bad_inner_packet;
  }
  if (!ecn_decapsulate(outer.ecn, payload, version)) {
    return Status::ecn_unmarkable;
  }
  const uint32_t front = static_cast<uint32_t>(payload - pkt.data());
  pkt.trim_back(pkt.length() - front - inner_len);
  pkt.trim_front(front);
  result->inner_version = version;
  return Status::ok;
}

}  // namespace traverse::esp
