#include "control/gateway/dataplane_ipsec.hh"

#include <openssl/crypto.h>

#include <cstring>

#include "drivers/crypto/transform.hh"

namespace traverse::gateway {
namespace {

api::Address to_api(const asio::ip::address& a, uint8_t prefix) {
  api::Address out{};
  if (a.is_v4()) {
    out.version = 4;
    auto b = a.to_v4().to_bytes();
    std::memcpy(out.bytes, b.data(), 4);
  } else {
    out.version = 6;
    auto b = a.to_v6().to_bytes();
    std::memcpy(out.bytes, b.data(), 16);
  }
  out.prefix_len = prefix;
  return out;
}

std::optional<crypto::Transform> transform_for(const ike::ChildSaInstall& sa) {
  switch (sa.encr_id) {
    case 20:  // ENCR_AES_GCM_16
      if (sa.key_bits == 128)
        return crypto::Transform::aes_gcm_128;
      if (sa.key_bits == 256)
        return crypto::Transform::aes_gcm_256;
      return std::nullopt;
    case 12:  // ENCR_AES_CBC with AUTH_HMAC_SHA2_256_128
      if (sa.integ_id != 12)
        return std::nullopt;
      if (sa.key_bits == 128)
        return crypto::Transform::aes_cbc_128_hmac_sha256_128;
      if (sa.key_bits == 256)
        return crypto::Transform::aes_cbc_256_hmac_sha256_128;
      return std::nullopt;
    case 28:
      return crypto::Transform::chacha20_poly1305;
    default:
      return std::nullopt;
  }
}

api::SaRef to_api(const ike::SaKey& sa) {
  api::SaRef ref{};
  ref.spi = sa.spi;
  ref.direction = sa.inbound ? api::Direction::inbound : api::Direction::outbound;
  ref.cookie = sa.cookie;
  return ref;
}

api::PolicyRecord policy_record(const ike::TsRange& selector, const ike::SaKey& sa) {
  api::PolicyRecord p{};
  p.selector = to_api(selector.start, static_cast<uint8_t>(selector.prefix_length()));
  p.spi = sa.spi;
  p.cookie = sa.cookie;
  return p;
}

}  // namespace

DataplaneIpsec::DataplaneIpsec(std::string socket_path) : path_(std::move(socket_path)) {}

bool DataplaneIpsec::ensure_connected(std::chrono::milliseconds timeout, bool* restarted) {
  *restarted = false;
  if (client_.connected())
    return true;
  std::string error = client_.connect(path_, timeout);
  if (!error.empty())
    return false;
  auto hello = client_.hello();
  if (!hello.ok()) {
    client_.disconnect();
    return false;
  }
  // hello's value is the SA table size; inbound slots are SPI & (size - 1).
  const uint32_t size = hello.reply.value;
  slot_mask_ = size != 0 && (size & (size - 1)) == 0 ? size - 1 : 0;
  *restarted = last_pid_ != 0;
  last_pid_ = client_.dataplane_pid();
  installed_.clear();
  return true;
}

Expected<void, std::string> DataplaneIpsec::check(const api::CallResult& r, const char* what) {
  if (r.ok())
    return {};
  return unexpected(std::string(what) + ": " + r.describe());
}

Expected<void, std::string> DataplaneIpsec::add_sa(const ike::ChildSaInstall& sa) {
  auto transform = transform_for(sa);
  if (!transform) {
    return unexpected("the dataplane has no ESP transform for ENCR " + std::to_string(sa.encr_id) +
                      "/" + std::to_string(sa.key_bits) + " INTEG " + std::to_string(sa.integ_id));
  }
  const crypto::TransformInfo info = crypto::transform_info(*transform);
  if (sa.encr_key.size() != std::size_t{info.cipher_key_len} + info.salt_len ||
      sa.integ_key.size() != info.auth_key_len) {
    return unexpected("key lengths do not match " + std::string(info.name));
  }
  api::SaRecord r{};
  r.spi = sa.spi;
  r.direction = sa.inbound ? api::Direction::inbound : api::Direction::outbound;
  r.transform = static_cast<uint8_t>(*transform);
  r.backend = static_cast<uint8_t>(crypto::Backend::ipsec_mb);
  r.flags = static_cast<uint8_t>((sa.esn ? api::kSaFlagEsn : 0) |
                                 (sa.udp_encap ? api::kSaFlagUdpEncap : 0));
  std::memcpy(r.cipher_key, sa.encr_key.data(), info.cipher_key_len);
  r.cipher_key_len = info.cipher_key_len;
  r.salt_len = info.salt_len;
  std::memcpy(r.salt, sa.encr_key.data() + info.cipher_key_len, info.salt_len);
  r.auth_key_len = info.auth_key_len;
  if (info.auth_key_len > 0)
    std::memcpy(r.auth_key, sa.integ_key.data(), info.auth_key_len);
  r.df_mode = 2;  // copy from the inner header
  r.local = to_api(sa.local.address(), 0);
  r.remote = to_api(sa.remote.address(), 0);
  r.local_port = sa.udp_encap ? sa.local.port() : 0;
  r.remote_port = sa.udp_encap ? sa.remote.port() : 0;
  r.replay_window = sa.inbound ? sa.replay_window : 0;
  r.first_sequence = sa.inbound ? 0 : sa.first_sequence;
  r.lifetime.soft_bytes = sa.soft_bytes;
  r.lifetime.hard_bytes = sa.hard_bytes;
  r.ttl = 64;
  r.cookie = sa.cookie;
  auto result = client_.add_sa(r);
  OPENSSL_cleanse(r.cipher_key, sizeof r.cipher_key);
  OPENSSL_cleanse(r.auth_key, sizeof r.auth_key);
  OPENSSL_cleanse(r.salt, sizeof r.salt);
  auto ok = check(result, "sa_add");
  if (ok) {
    // Keep the record without keys: update_sa needs the rest.
    installed_[sa.key()] = r;
  }
  return ok;
}

Expected<void, std::string> DataplaneIpsec::update_sa(const ike::SaKey& sa,
                                                      const ike::Endpoint& local,
                                                      const ike::Endpoint& remote, bool udp_encap) {
  auto it = installed_.find(sa);
  if (it == installed_.end())
    return unexpected(std::string("update of an unknown SA"));
  api::SaRecord r = it->second;
  r.local = to_api(local.address(), 0);
  r.remote = to_api(remote.address(), 0);
  r.flags = static_cast<uint8_t>((r.flags & ~api::kSaFlagUdpEncap) |
                                 (udp_encap ? api::kSaFlagUdpEncap : 0));
  r.local_port = udp_encap ? local.port() : 0;
  r.remote_port = udp_encap ? remote.port() : 0;
  auto ok = check(client_.update_sa(r), "sa_update");
  if (ok)
    it->second = r;
  return ok;
}

Expected<void, std::string> DataplaneIpsec::delete_sa(const ike::SaKey& sa) {
  installed_.erase(sa);
  return check(client_.delete_sa(to_api(sa)), "sa_delete");
}

Expected<void, std::string> DataplaneIpsec::add_policy(const ike::TsRange& selector,
                                                       const ike::SaKey& sa) {
  return check(client_.add_policy(policy_record(selector, sa)), "policy_add");
}

Expected<void, std::string> DataplaneIpsec::delete_policy(const ike::TsRange& selector,
                                                          const ike::SaKey& sa) {
  return check(client_.delete_policy(policy_record(selector, sa)), "policy_delete");
}

std::optional<ike::ChildSaCounters> DataplaneIpsec::counters(const ike::SaKey& sa) {
  auto r = client_.sa_counters(to_api(sa));
  if (!r.ok())
    return std::nullopt;
  ike::ChildSaCounters c;
  c.packets = r.counters.packets;
  c.bytes = r.counters.bytes;
  c.drops = r.counters.drops;
  c.path_mtu = r.counters.path_mtu;
  return c;
}

std::size_t DataplaneIpsec::remove_orphans() {
  auto list = client_.list_sas();
  if (!list.ok())
    return 0;
  std::size_t n = 0;
  for (const api::SaRef& ref : list.sas) {
    auto counters = client_.sa_counters(ref);
    if (counters.ok() && counters.counters.cookie != 0 && client_.delete_sa(ref).ok())
      ++n;
  }
  return n;
}

void DataplaneIpsec::poll_events(const std::function<void(const api::Event&)>& on_event) {
  if (!client_.connected())
    return;
  client_.poll_events([&](const api::Event& e) { on_event(e); });
}

}  // namespace traverse::gateway
