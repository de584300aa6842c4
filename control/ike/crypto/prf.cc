#include "control/ike/crypto/prf.hh"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <memory>

namespace traverse::ike {
namespace {

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// prf+ numbers its blocks with a single octet, 0x01..0xff.
constexpr std::size_t kMaxPrfPlusBlocks = 255;

}  // namespace

std::optional<Prf> Prf::create(uint16_t prf_id) {
  const char* digest = nullptr;
  std::size_t size = 0;
  switch (prf_id) {
    case kPrfHmacSha2_256:
      digest = "SHA2-256";
      size = 32;
      break;
    case kPrfHmacSha2_384:
      digest = "SHA2-384";
      size = 48;
      break;
    case kPrfHmacSha2_512:
      digest = "SHA2-512";
      size = 64;
      break;
    default:
      return std::nullopt;
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  if (mac == nullptr) {
    return std::nullopt;
  }
  return Prf(prf_id, digest, size, mac);
}

Prf::Prf(uint16_t id, const char* digest, std::size_t output_size, EVP_MAC* mac)
    : id_(id), digest_(digest), output_size_(output_size), mac_(mac) {}

Prf::Prf(const Prf& other)
    : id_(other.id_), digest_(other.digest_), output_size_(other.output_size_), mac_(other.mac_) {
  if (mac_ != nullptr) {
    EVP_MAC_up_ref(mac_);
  }
}

Prf& Prf::operator=(const Prf& other) {
  if (this != &other) {
    Prf copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Prf::Prf(Prf&& other) noexcept
    : id_(other.id_), digest_(other.digest_), output_size_(other.output_size_), mac_(other.mac_) {
  other.mac_ = nullptr;
}

Prf& Prf::operator=(Prf&& other) noexcept {
  if (this != &other) {
    EVP_MAC_free(mac_);
    id_ = other.id_;
    digest_ = other.digest_;
    output_size_ = other.output_size_;
    mac_ = other.mac_;
    other.mac_ = nullptr;
  }
  return *this;
}

Prf::~Prf() {
  EVP_MAC_free(mac_);
}

Secret Prf::compute(ByteView key, ByteView data) const {
  if (mac_ == nullptr) {
    return {};
  }
  MacCtx ctx(EVP_MAC_CTX_new(mac_));
  if (!ctx) {
    return {};
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_), 0),
      OSSL_PARAM_construct_end(),
  };
  // OpenSSL treats a null key as "keep the previous key", which a fresh context
  // lacks: give an empty key a real address so HMAC runs with the empty key.
  static const uint8_t kNoKey = 0;
  const uint8_t* key_data = key.empty() ? &kNoKey : key.data();
  if (EVP_MAC_init(ctx.get(), key_data, key.size(), params) != 1) {
    return {};
  }
  if (!data.empty() && EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1) {
    return {};
  }
  Secret out(output_size_);
  std::size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != output_size_) {
    return {};
  }
  return out;
}

Secret Prf::plus(ByteView key, ByteView seed, std::size_t length) const {
  if (length == 0 || output_size_ == 0 || length > kMaxPrfPlusBlocks * output_size_) {
    return {};
  }
  const std::size_t blocks = (length + output_size_ - 1) / output_size_;
  Secret out(blocks * output_size_);
  // Each block's input is T(n-1) | seed | n; the buffer holds a secret (T).
  Secret input(output_size_ + seed.size() + 1);
  for (std::size_t n = 1; n <= blocks; ++n) {
    std::size_t offset = 0;
    if (n > 1) {
      std::copy_n(out.data() + (n - 2) * output_size_, output_size_, input.data());
      offset = output_size_;
    }
    std::copy(seed.begin(), seed.end(), input.data() + offset);
    offset += seed.size();
    input.data()[offset++] = static_cast<uint8_t>(n);
    Secret block = compute(key, ByteView(input.data(), offset));
    if (block.size() != output_size_) {
      return {};
    }
    std::copy_n(block.data(), output_size_, out.data() + (n - 1) * output_size_);
  }
  out.resize(length);
  return out;
}

}  // namespace traverse::ike
