// Protection of the body of an Encrypted (SK) or Encrypted Fragment (SKF)
// payload: IV || ciphertext(plaintext | padding | pad length) || ICV (RFC 7296
// 3.14, AES-GCM per RFC 5282, ChaCha20-Poly1305 per RFC 7634). seal() and
// open() are const and may run concurrently; the AEAD IV counter is atomic.
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "control/ike/bytes.hh"
#include "control/ike/crypto/prf.hh"
#include "control/ike/crypto/transform_ids.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

class SkCipher {
 public:
  // ENCR_AES_CBC (128/192/256) with AUTH_HMAC_SHA2_256_128/384_192/512_256,
  // or ENCR_AES_GCM_16 (128/192/256) / ENCR_CHACHA20_POLY1305 (key_bits 0 or
  // 256) with integ_id 0. encr_key includes the 4-octet salt for AEAD. nullopt
  // for an unknown combination or a key of the wrong length.
  static std::optional<SkCipher> create(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id,
                                        ByteView encr_key, ByteView integ_key);

  SkCipher(const SkCipher&) = delete;
  SkCipher& operator=(const SkCipher&) = delete;
  SkCipher(SkCipher&& other) noexcept;
  SkCipher& operator=(SkCipher&& other) noexcept;
  ~SkCipher();

  std::size_t iv_size() const { return iv_size_; }
  std::size_t icv_size() const { return icv_size_; }
  // The payload body's length for a plaintext of this length (0 if too long).
  std::size_t body_length(std::size_t plaintext_length) const;

  // Writes the whole body into body_out, which must be exactly
  // body_length(plaintext.size()) octets. prefix is the message up to the IV
  // (IKE header, any payloads before, the SK/SKF generic header and, for SKF,
  // the fragment numbers), with its lengths final: the AEAD's associated data,
  // or the start of what the ICV covers. False on a size mismatch, an OpenSSL
  // failure or an exhausted IV counter; body_out is then wiped.
  bool seal(ByteView prefix, ByteView plaintext, std::span<uint8_t> body_out) const;

  // Verifies the ICV (constant time) before decrypting, then strips the
  // padding. Every failure is an error: truncated bodies, a wrong ICV, a pad
  // length beyond the plaintext.
  Expected<Bytes, std::string> open(ByteView prefix, ByteView body) const;

 private:
  SkCipher() = default;

  bool seal_cbc(ByteView prefix, ByteView padded, std::span<uint8_t> body_out) const;
  bool seal_aead(ByteView prefix, ByteView padded, std::span<uint8_t> body_out) const;
  Expected<Bytes, std::string> open_cbc(ByteView prefix, ByteView body) const;
  Expected<Bytes, std::string> open_aead(ByteView prefix, ByteView body) const;

  EVP_CIPHER* cipher_ = nullptr;  // fetched once
  bool aead_ = false;
  std::size_t block_size_ = 1;  // the padding unit
  std::size_t iv_size_ = 0;     // explicit IV carried in the payload
  std::size_t icv_size_ = 0;
  Secret key_;                // cipher key (AEAD: without the salt)
  Secret salt_;               // AEAD only: the implicit 4 octets of the nonce
  std::optional<Prf> integ_;  // CBC: HMAC with the integrity digest
  Secret integ_key_;
  // AEAD: the next explicit IV. A (key, nonce) pair must never repeat, so it
  // only counts up, and sealing stops when it would wrap.
  mutable std::atomic<uint64_t> next_iv_{1};
};

}  // namespace traverse::ike
