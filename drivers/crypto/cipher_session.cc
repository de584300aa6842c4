// CipherSession: key checks at create() and the per-packet dispatch, a switch
// on the backend chosen when the SA was installed. Calls that do not fit the
// session fail closed here, before either backend runs (see the header).
#include "drivers/crypto/cipher_session.hh"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "drivers/crypto/ipsec_mb_state.hh"
#include "drivers/crypto/openssl_state.hh"

namespace traverse::crypto {
namespace {

constexpr uint32_t kAeadTagLen = 16;
constexpr uint32_t kAesBlockLen = 16;
constexpr uint32_t kMaxMacLen = 32;

bool is_aead(Transform t) {
  return transform_info(t).aead;
}

void wipe(uint8_t* data, uint32_t len) {
  if (len != 0) {
    std::memset(data, 0, len);
  }
}

// Empty when the keys fit the transform, otherwise what is wrong with them.
std::string check_keys(Transform transform, const SessionKeys& keys) {
  const TransformInfo info = transform_info(transform);
  if (info.cipher_key_len == 0) {
    return "unknown transform " + std::to_string(static_cast<int>(transform));
  }
  const std::string name(info.name);
  if (keys.cipher_key.size() != info.cipher_key_len) {
    return name + ": cipher key is " + std::to_string(keys.cipher_key.size()) +
           " bytes, expected " + std::to_string(info.cipher_key_len);
  }
  if (keys.salt.size() != info.salt_len) {
    return info.aead
               ? name + ": salt is " + std::to_string(keys.salt.size()) + " bytes, expected " +
                     std::to_string(info.salt_len) + " (the last bytes of the keying material)"
               : name + ": salt must be empty for a CBC transform, got " +
                     std::to_string(keys.salt.size()) + " bytes";
  }
  if (info.aead && !keys.auth_key.empty()) {
    return name + ": auth key must be empty for an AEAD transform, got " +
           std::to_string(keys.auth_key.size()) + " bytes";
  }
  if (!info.aead && keys.auth_key.empty()) {
    return name + ": auth key is empty, expected " + std::to_string(info.auth_key_len) +
           " bytes (RFC 4868)";
  }
  return {};
}

}  // namespace

CipherSession::CipherSession(Backend backend, Transform transform)
    : backend_(backend), transform_(transform) {}

CipherSession::~CipherSession() = default;  // each state wipes its own keys

std::unique_ptr<CipherSession> CipherSession::create(Backend backend, Transform transform,
                                                     const SessionKeys& keys, std::string* error) {
  std::string why = check_keys(transform, keys);
  std::unique_ptr<CipherSession> session;
  if (why.empty()) {
    session.reset(new CipherSession(backend, transform));
    switch (backend) {
      case Backend::ipsec_mb:
        session->ipsec_mb_ = internal::IpsecMbState::create(transform, keys, &why);
        break;
      case Backend::openssl:
        session->openssl_ = internal::OpensslState::create(transform, keys, &why);
        break;
      default:
        why = "unknown crypto backend " + std::to_string(static_cast<int>(backend));
        break;
    }
  }
  if (!why.empty()) {
    if (error != nullptr) {
      *error = std::move(why);
    }
    return nullptr;
  }
  return session;
}

uint32_t CipherSession::hot_regions(MemoryRegion* out) const {
  uint32_t count = 0;
  out[count++] = {this, sizeof(*this)};
  if (ipsec_mb_) {
    count += ipsec_mb_->hot_regions(out + count);
  } else if (openssl_) {
    out[count++] = {openssl_.get(), sizeof(internal::OpensslState)};
  }
  return count;
}

void CipherSession::aead_seal(ThreadContext& thread, const uint8_t* iv, const uint8_t* aad,
                              uint32_t aad_len, uint8_t* data, uint32_t len, uint8_t* tag) {
  uint64_t value = 0;
  std::memcpy(&value, iv, sizeof value);
  aead_seal(thread, value, aad, aad_len, data, len, tag);
}

void CipherSession::aead_seal(ThreadContext& thread, uint64_t iv, const uint8_t* aad,
                              uint32_t aad_len, uint8_t* data, uint32_t len, uint8_t* tag) {
  if (!is_aead(transform_)) {
    wipe(data, len);
    wipe(tag, kAeadTagLen);
    return;
  }
  switch (backend_) {
    case Backend::ipsec_mb:
      ipsec_mb_->aead_seal(thread.mgr_, iv, aad, aad_len, data, len, tag);
      return;
    case Backend::openssl: {
      uint8_t bytes[sizeof iv];
      std::memcpy(bytes, &iv, sizeof iv);
      openssl_->aead_seal(bytes, aad, aad_len, data, len, tag);
      return;
    }
  }
}

bool CipherSession::aead_open(ThreadContext& thread, const uint8_t* iv, const uint8_t* aad,
                              uint32_t aad_len, uint8_t* data, uint32_t len, const uint8_t* tag) {
  if (!is_aead(transform_)) {
    return false;
  }
  switch (backend_) {
    case Backend::ipsec_mb:
      return ipsec_mb_->aead_open(thread.mgr_, iv, aad, aad_len, data, len, tag);
    case Backend::openssl:
      return openssl_->aead_open(iv, aad, aad_len, data, len, tag);
  }
  return false;
}

void CipherSession::cbc_encrypt(ThreadContext& thread, const uint8_t* iv, uint8_t* data,
                                uint32_t len) {
  if (is_aead(transform_) || len % kAesBlockLen != 0) {
    wipe(data, len);
    return;
  }
  if (len == 0) {
    return;
  }
  switch (backend_) {
    case Backend::ipsec_mb:
      ipsec_mb_->cbc(thread.mgr_, IMB_DIR_ENCRYPT, iv, data, len);
      return;
    case Backend::openssl:
      openssl_->cbc_encrypt(iv, data, len);
      return;
  }
}

void CipherSession::cbc_decrypt(ThreadContext& thread, const uint8_t* iv, uint8_t* data,
                                uint32_t len) {
  if (is_aead(transform_) || len % kAesBlockLen != 0) {
    wipe(data, len);
    return;
  }
  if (len == 0) {
    return;
  }
  switch (backend_) {
    case Backend::ipsec_mb:
      ipsec_mb_->cbc(thread.mgr_, IMB_DIR_DECRYPT, iv, data, len);
      return;
    case Backend::openssl:
      openssl_->cbc_decrypt(iv, data, len);
      return;
  }
}

void CipherSession::hmac(ThreadContext& thread, const uint8_t* data, uint32_t len, uint8_t* out,
                         uint32_t out_len) {
  out_len = std::min(out_len, kMaxMacLen);
  if (out_len == 0) {
    return;
  }
  if (is_aead(transform_)) {
    // Not a hot path: only a caller bug gets here. Zeros would be a MAC an
    // attacker could send; random bytes are not.
    if (RAND_bytes(out, static_cast<int>(out_len)) != 1) {
      std::memset(out, 0xa5, out_len);
    }
    return;
  }
  switch (backend_) {
    case Backend::ipsec_mb:
      ipsec_mb_->hmac(thread.hmac_mgr_, data, len, out, out_len);
      return;
    case Backend::openssl:
      openssl_->hmac(data, len, out, out_len);
      return;
  }
}

}  // namespace traverse::crypto
