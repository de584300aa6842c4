// Byte strings as IKE handles them: owned buffers, and secrets that are wiped
// when they go away (keys, nonces' derived material, shared secrets, PSKs).
#pragma once

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace traverse::ike {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A key or other secret: move-only, wiped with OPENSSL_cleanse on destruction
// and on assignment, so no copy of key material outlives its owner.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::size_t size) : bytes_(size) {}
  explicit Secret(ByteView data) : bytes_(data.begin(), data.end()) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  // An explicit copy, for the rare place that needs two owners.
  Secret clone() const { return Secret(view()); }

  void wipe() {
    if (!bytes_.empty())
      OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
  }
  void resize(std::size_t size) {
    // Growing may reallocate: wipe the old storage first by copying through.
    Secret grown(size);
    std::copy_n(bytes_.begin(), std::min(size, bytes_.size()), grown.bytes_.begin());
    *this = std::move(grown);
  }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  ByteView view() const { return {bytes_.data(), bytes_.size()}; }
  std::span<uint8_t> span() { return {bytes_.data(), bytes_.size()}; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace traverse::ike
