#include "control/ike/crypto/sk_cipher.hh"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "control/ike/crypto/key_material.hh"

namespace traverse::ike {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

constexpr std::size_t kAesBlock = 16;
constexpr std::size_t kAeadTagSize = 16;
constexpr std::size_t kAeadExplicitIv = 8;
// OpenSSL's update calls take int lengths; IKE messages are far smaller.
constexpr std::size_t kMaxPlaintext = 1u << 24;

const char* cipher_name(uint16_t encr_id, uint16_t key_bits) {
  switch (encr_id) {
    case kEncrAesCbc:
      return key_bits == 128 ? "AES-128-CBC" : key_bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
    case kEncrAesGcm16:
      return key_bits == 128 ? "AES-128-GCM" : key_bits == 192 ? "AES-192-GCM" : "AES-256-GCM";
    case kEncrChacha20Poly1305:
      return "ChaCha20-Poly1305";
    default:
      return nullptr;
  }
}

// RFC 4868: the PRF of the same hash, truncated to half its output.
std::optional<uint16_t> integ_prf_id(uint16_t integ_id) {
  switch (integ_id) {
    case kAuthHmacSha2_256_128:
      return kPrfHmacSha2_256;
    case kAuthHmacSha2_384_192:
      return kPrfHmacSha2_384;
    case kAuthHmacSha2_512_256:
      return kPrfHmacSha2_512;
    default:
      return std::nullopt;
  }
}

int as_int(std::size_t n) {
  return static_cast<int>(n);
}

}  // namespace

std::optional<SkCipher> SkCipher::create(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id,
                                         ByteView encr_key, ByteView integ_key) {
  auto encr_len = encr_key_length(encr_id, key_bits);
  auto integ_len = integ_key_length(integ_id);
  if (!encr_len || !integ_len || encr_key.size() != *encr_len || integ_key.size() != *integ_len) {
    return std::nullopt;
  }
  const bool aead = is_aead(encr_id);
  if (aead != (integ_id == kIntegNone)) {
    return std::nullopt;
  }
  SkCipher sk;
  sk.cipher_ = EVP_CIPHER_fetch(nullptr, cipher_name(encr_id, key_bits), nullptr);
  if (sk.cipher_ == nullptr) {
    return std::nullopt;
  }
  sk.aead_ = aead;
  if (aead) {
    // RFC 5282 3 / RFC 7634 3: no alignment, so no padding beyond the length octet.
    sk.block_size_ = 1;
    sk.iv_size_ = kAeadExplicitIv;
    sk.icv_size_ = kAeadTagSize;
    sk.key_ = Secret(encr_key.first(encr_key.size() - kAeadSaltSize));
    sk.salt_ = Secret(encr_key.last(kAeadSaltSize));
  } else {
    auto prf_id = integ_prf_id(integ_id);
    sk.integ_ = prf_id ? Prf::create(*prf_id) : std::nullopt;
    if (!sk.integ_) {
      return std::nullopt;
    }
    sk.block_size_ = kAesBlock;
    sk.iv_size_ = kAesBlock;
    sk.icv_size_ = sk.integ_->output_size() / 2;
    sk.key_ = Secret(encr_key);
    sk.integ_key_ = Secret(integ_key);
  }
  if (static_cast<std::size_t>(EVP_CIPHER_get_key_length(sk.cipher_)) != sk.key_.size()) {
    return std::nullopt;
  }
  return sk;
}

SkCipher::SkCipher(SkCipher&& other) noexcept
    : cipher_(other.cipher_),
      aead_(other.aead_),
      block_size_(other.block_size_),
      iv_size_(other.iv_size_),
      icv_size_(other.icv_size_),
      key_(std::move(other.key_)),
      salt_(std::move(other.salt_)),
      integ_(std::move(other.integ_)),
      integ_key_(std::move(other.integ_key_)),
      next_iv_(other.next_iv_.load()) {
  other.cipher_ = nullptr;
}

SkCipher& SkCipher::operator=(SkCipher&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_free(cipher_);
    cipher_ = other.cipher_;
    other.cipher_ = nullptr;
    aead_ = other.aead_;
    block_size_ = other.block_size_;
    iv_size_ = other.iv_size_;
    icv_size_ = other.icv_size_;
    key_ = std::move(other.key_);
    salt_ = std::move(other.salt_);
    integ_ = std::move(other.integ_);
    integ_key_ = std::move(other.integ_key_);
    next_iv_.store(other.next_iv_.load());
  }
  return *this;
}

SkCipher::~SkCipher() {
  EVP_CIPHER_free(cipher_);
}

std::size_t SkCipher::body_length(std::size_t plaintext_length) const {
  if (plaintext_length > kMaxPlaintext) {
    return 0;
  }
  // plaintext | padding | pad length octet, rounded up to the block size.
  const std::size_t padded = (plaintext_length + 1 + block_size_ - 1) / block_size_ * block_size_;
  return iv_size_ + padded + icv_size_;
}

bool SkCipher::seal(ByteView prefix, ByteView plaintext, std::span<uint8_t> body_out) const {
  const std::size_t expected = body_length(plaintext.size());
  if (cipher_ == nullptr || expected == 0 || body_out.size() != expected ||
      prefix.size() > kMaxPlaintext) {
    return false;
  }
  // RFC 7296 3.14: the padding may hold any value; zeros leak nothing.
  const std::size_t padded_size = expected - iv_size_ - icv_size_;
  Secret padded(padded_size);
  std::copy(plaintext.begin(), plaintext.end(), padded.data());
  padded.data()[padded_size - 1] = static_cast<uint8_t>(padded_size - plaintext.size() - 1);
  const bool ok = aead_ ? seal_aead(prefix, padded.view(), body_out)
                        : seal_cbc(prefix, padded.view(), body_out);
  if (!ok) {
    OPENSSL_cleanse(body_out.data(), body_out.size());
  }
  return ok;
}

bool SkCipher::seal_cbc(ByteView prefix, ByteView padded, std::span<uint8_t> body_out) const {
  uint8_t* iv = body_out.data();
  uint8_t* ciphertext = iv + iv_size_;
  uint8_t* icv = ciphertext + padded.size();
  if (RAND_bytes(iv, as_int(iv_size_)) != 1) {
    return false;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int out_len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher_, key_.data(), iv, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &out_len, padded.data(), as_int(padded.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + out_len, &final_len) != 1 ||
      static_cast<std::size_t>(out_len + final_len) != padded.size()) {
    return false;
  }
  // The ICV covers the message from its first octet to the end of the ciphertext.
  Bytes covered(prefix.begin(), prefix.end());
  covered.insert(covered.end(), body_out.begin(), body_out.begin() + (icv - body_out.data()));
  Secret mac = integ_->compute(integ_key_.view(), covered);
  if (mac.size() < icv_size_) {
    return false;
  }
  std::copy_n(mac.data(), icv_size_, icv);
  return true;
}

bool SkCipher::seal_aead(ByteView prefix, ByteView padded, std::span<uint8_t> body_out) const {
  // Reserve an IV atomically; refuse once the counter would wrap to reuse.
  uint64_t counter = next_iv_.load();
  do {
    if (counter == UINT64_MAX) {
      return false;
    }
  } while (!next_iv_.compare_exchange_weak(counter, counter + 1));

  uint8_t* iv = body_out.data();
  uint8_t* ciphertext = iv + iv_size_;
  uint8_t* tag = ciphertext + padded.size();
  for (std::size_t i = 0; i < kAeadExplicitIv; ++i) {
    iv[i] = static_cast<uint8_t>(counter >> (8 * (kAeadExplicitIv - 1 - i)));
  }
  uint8_t nonce[kAeadSaltSize + kAeadExplicitIv];
  std::copy_n(salt_.data(), kAeadSaltSize, nonce);
  std::copy_n(iv, kAeadExplicitIv, nonce + kAeadSaltSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int out_len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, sizeof(nonce), nullptr) != 1 ||
      EVP_EncryptInit_ex2(ctx.get(), nullptr, key_.data(), nonce, nullptr) != 1) {
    return false;
  }
  if (!prefix.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &out_len, prefix.data(), as_int(prefix.size())) != 1) {
    return false;
  }
  if (EVP_EncryptUpdate(ctx.get(), ciphertext, &out_len, padded.data(), as_int(padded.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + out_len, &final_len) != 1 ||
      static_cast<std::size_t>(out_len + final_len) != padded.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, as_int(icv_size_), tag) != 1) {
    return false;
  }
  return true;
}

Expected<Bytes, std::string> SkCipher::open(ByteView prefix, ByteView body) const {
  if (cipher_ == nullptr) {
    return unexpected(std::string("SK payload: no cipher"));
  }
  if (body.size() > kMaxPlaintext + iv_size_ + icv_size_ + kAesBlock ||
      prefix.size() > kMaxPlaintext) {
    return unexpected(std::string("SK payload: too long"));
  }
  // The smallest body holds an IV, one padded block (at least the pad length
  // octet) and an ICV.
  if (body.size() < iv_size_ + block_size_ + icv_size_) {
    return unexpected("SK payload: body of " + std::to_string(body.size()) +
                      " octets is shorter than IV, one block and ICV");
  }
  if ((body.size() - iv_size_ - icv_size_) % block_size_ != 0) {
    return unexpected(std::string("SK payload: ciphertext is not a whole number of blocks"));
  }
  auto padded = aead_ ? open_aead(prefix, body) : open_cbc(prefix, body);
  if (!padded) {
    return padded;
  }
  Bytes& data = *padded;
  const std::size_t pad_length = data.back();
  if (pad_length + 1 > data.size()) {
    OPENSSL_cleanse(data.data(), data.size());
    return unexpected(std::string("SK payload: pad length exceeds the decrypted data"));
  }
  OPENSSL_cleanse(data.data() + data.size() - pad_length - 1, pad_length + 1);
  data.resize(data.size() - pad_length - 1);
  return padded;
}

Expected<Bytes, std::string> SkCipher::open_cbc(ByteView prefix, ByteView body) const {
  const ByteView iv = body.first(iv_size_);
  const ByteView ciphertext = body.subspan(iv_size_, body.size() - iv_size_ - icv_size_);
  const ByteView icv = body.last(icv_size_);
  Bytes covered(prefix.begin(), prefix.end());
  covered.insert(covered.end(), body.begin(), body.end() - static_cast<std::ptrdiff_t>(icv_size_));
  Secret mac = integ_->compute(integ_key_.view(), covered);
  if (mac.size() < icv_size_ || CRYPTO_memcmp(mac.data(), icv.data(), icv_size_) != 0) {
    return unexpected(std::string("SK payload: integrity check failed"));
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  Bytes plain(ciphertext.size());
  int out_len = 0;
  int final_len = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher_, key_.data(), iv.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &out_len, ciphertext.data(),
                        as_int(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + out_len, &final_len) != 1 ||
      static_cast<std::size_t>(out_len + final_len) != plain.size()) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return unexpected(std::string("SK payload: decryption failed"));
  }
  return plain;
}

Expected<Bytes, std::string> SkCipher::open_aead(ByteView prefix, ByteView body) const {
  const ByteView iv = body.first(iv_size_);
  const ByteView ciphertext = body.subspan(iv_size_, body.size() - iv_size_ - icv_size_);
  const ByteView tag = body.last(icv_size_);
  uint8_t nonce[kAeadSaltSize + kAeadExplicitIv];
  std::copy_n(salt_.data(), kAeadSaltSize, nonce);
  std::copy_n(iv.data(), kAeadExplicitIv, nonce + kAeadSaltSize);
  // The tag is checked in DecryptFinal (constant time inside OpenSSL); the
  // plaintext is discarded and wiped unless it succeeds.
  Bytes tag_copy(tag.begin(), tag.end());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  Bytes plain(ciphertext.size());
  int out_len = 0;
  int final_len = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, sizeof(nonce), nullptr) != 1 ||
      EVP_DecryptInit_ex2(ctx.get(), nullptr, key_.data(), nonce, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, as_int(icv_size_), tag_copy.data()) !=
          1) {
    return unexpected(std::string("SK payload: cannot start decryption"));
  }
  if (!prefix.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &out_len, prefix.data(), as_int(prefix.size())) != 1) {
    return unexpected(std::string("SK payload: cannot process associated data"));
  }
  bool ok = EVP_DecryptUpdate(ctx.get(), plain.data(), &out_len, ciphertext.data(),
                              as_int(ciphertext.size())) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), plain.data() + out_len, &final_len) == 1 &&
       static_cast<std::size_t>(out_len + final_len) == plain.size();
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return unexpected(std::string("SK payload: integrity check failed"));
  }
  return plain;
}

}  // namespace traverse::ike
