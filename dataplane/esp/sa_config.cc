#include "dataplane/esp/sa_config.hh"

#include <openssl/crypto.h>

#include "dataplane/esp/replay_window.hh"

namespace traverse::esp {

SaConfig::~SaConfig() {
  OPENSSL_cleanse(cipher_key.data(), cipher_key.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  OPENSSL_cleanse(auth_key.data(), auth_key.size());
}

std::string SaConfig::validate() const {
  const crypto::TransformInfo info = crypto::transform_info(transform);
  if (spi < 256) {
    // RFC 4303 section 2.1: SPIs 1..255 are reserved by IANA, 0 is local use.
    return "spi " + std::to_string(spi) + " is reserved (0..255)";
  }
  if (cipher_key.size() != info.cipher_key_len) {
    return std::string(info.name) + " needs a " + std::to_string(info.cipher_key_len) +
           "-byte cipher key, got " + std::to_string(cipher_key.size());
  }
  if (salt.size() != info.salt_len) {
    return std::string(info.name) + " needs a " + std::to_string(info.salt_len) +
           "-byte salt, got " + std::to_string(salt.size());
  }
  if (auth_key.size() != info.auth_key_len) {
    return std::string(info.name) + " needs a " + std::to_string(info.auth_key_len) +
           "-byte integrity key, got " + std::to_string(auth_key.size());
  }
  if (replay_window > ReplayWindow::kMaxSize) {
    return "replay window " + std::to_string(replay_window) + " exceeds " +
           std::to_string(ReplayWindow::kMaxSize);
  }
  if (local.version == 0 || remote.version == 0) {
    return "tunnel endpoints are not set";
  }
  if (local.version != remote.version) {
    return "tunnel endpoints " + local.to_string() + " and " + remote.to_string() +
           " are of different IP versions";
  }
  if (udp_encap && (local_port == 0 || remote_port == 0)) {
    return "UDP encapsulation needs non-zero ports";
  }
  if (ttl == 0) {
    return "outer TTL must not be zero";
  }
  if (first_sequence == 0 || (!esn && first_sequence > 0xffffffffu)) {
    return "first sequence number " + std::to_string(first_sequence) + " is out of range";
  }
  return {};
}

}  // namespace traverse::esp
