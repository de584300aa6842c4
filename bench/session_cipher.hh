// The cipher work of one ESP packet through Traverse's crypto driver
// (crypto::CipherSession), called exactly as esp_encrypt.cc and esp_decrypt.cc
// call it for 32-bit sequence numbers, but without the ESP framing. Between
// the raw library baseline and the full ESP path: raw -> session shows what
// the driver costs, session -> ESP what the ESP core costs. Same interface as
// RawIpsecMb and RawOpenssl. Single-threaded; benchmarks only.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "drivers/crypto/cipher_session.hh"

namespace traverse::bench {

class SessionCipher {
 public:
  SessionCipher(std::unique_ptr<crypto::CipherSession> session, crypto::ThreadContext& thread)
      : session_(std::move(session)),
        thread_(thread),
        aead_(crypto::transform_info(session_->transform()).aead) {}

  bool seal(uint8_t* esp, uint32_t payload_len) {
    uint8_t* iv = esp + kEspHeaderLen;
    if (aead_) {
      uint8_t* payload = iv + kAeadIvLen;
      session_->aead_seal(thread_, iv, esp, kEspHeaderLen, payload, payload_len,
                          payload + payload_len);
      return true;
    }
    const uint32_t len = kCbcIvLen + payload_len;
    session_->cbc_encrypt(thread_, kZeroIv, iv, len);
    session_->hmac(thread_, esp, kEspHeaderLen + len, iv + len, kIcvLen);
    return true;
  }

  bool open(uint8_t* esp, uint32_t payload_len) {
    uint8_t* iv = esp + kEspHeaderLen;
    if (aead_) {
      uint8_t* payload = iv + kAeadIvLen;
      return session_->aead_open(thread_, iv, esp, kEspHeaderLen, payload, payload_len,
                                 payload + payload_len);
    }
    uint8_t* payload = iv + kCbcIvLen;
    uint8_t expected[kIcvLen];
    session_->hmac(thread_, esp, kEspHeaderLen + kCbcIvLen + payload_len, expected, kIcvLen);
    if (CRYPTO_memcmp(expected, payload + payload_len, kIcvLen) != 0) {
      return false;
    }
    session_->cbc_decrypt(thread_, iv, payload, payload_len);
    return true;
  }

 private:
  static constexpr uint32_t kEspHeaderLen = 8;
  static constexpr uint32_t kAeadIvLen = 8;
  static constexpr uint32_t kCbcIvLen = 16;
  static constexpr uint32_t kIcvLen = 16;
  static constexpr uint8_t kZeroIv[16] = {};

  std::unique_ptr<crypto::CipherSession> session_;
  crypto::ThreadContext& thread_;
  bool aead_;
};

}  // namespace traverse::bench
