#include "dataplane/api/test_messages.hh"

#include <cstring>

#include "drivers/crypto/transform.hh"

namespace traverse::api::testing {

Address address(uint8_t version, uint8_t prefix_len, uint8_t last_byte) {
  Address a{};
  a.version = version;
  a.prefix_len = prefix_len;
  if (version == 4) {
    a.bytes[0] = 192;
    a.bytes[1] = 0;
    a.bytes[2] = 2;
    a.bytes[3] = last_byte;
  } else {
    a.bytes[0] = 0x20;
    a.bytes[1] = 0x01;
    a.bytes[2] = 0x0d;
    a.bytes[3] = 0xb8;
    a.bytes[15] = last_byte;
  }
  return a;
}

SaRecord good_sa(uint8_t transform, Direction direction, uint8_t ip_version) {
  const crypto::TransformInfo info =
      crypto::transform_info(static_cast<crypto::Transform>(transform));
  SaRecord sa{};
  sa.spi = 0x1000 + transform;
  sa.direction = direction;
  sa.transform = transform;
  sa.backend = 0;
  sa.flags = kSaFlagEsn;
  sa.cipher_key_len = info.cipher_key_len;
  sa.salt_len = info.salt_len;
  sa.auth_key_len = info.auth_key_len;
  for (std::size_t i = 0; i < sizeof sa.cipher_key; ++i) {
    sa.cipher_key[i] = static_cast<uint8_t>(i < info.cipher_key_len ? 0x10 + i : 0);
  }
  for (std::size_t i = 0; i < info.salt_len; ++i) {
    sa.salt[i] = static_cast<uint8_t>(0xa0 + i);
  }
  for (std::size_t i = 0; i < info.auth_key_len; ++i) {
    sa.auth_key[i] = static_cast<uint8_t>(0x40 + i);
  }
  sa.df_mode = 0;
  const uint8_t full = ip_version == 4 ? 32 : 128;
  sa.local = address(ip_version, full, 1);
  sa.remote = address(ip_version, full, 2);
  sa.local_port = 4500;
  sa.remote_port = 4500;
  sa.replay_window = 1024;
  sa.first_sequence = 1;
  sa.lifetime = {1u << 30, 1u << 31, 1u << 20, 1u << 21};
  sa.path_mtu = 1400;
  sa.ttl = 64;
  sa.cookie = 42;
  return sa;
}

PolicyRecord good_policy(uint8_t ip_version) {
  PolicyRecord p{};
  p.selector = address(ip_version, ip_version == 4 ? 24 : 64, 0);
  p.spi = 0x1000;
  return p;
}

Message request(MessageType type, const void* body, std::size_t size) {
  Message m;
  std::memset(&m, 0, sizeof m);
  m.header.version = kApiVersion;
  m.header.type = type;
  m.header.length = static_cast<uint32_t>(size);
  if (size != 0) {
    std::memcpy(m.body.raw, body, size);
  }
  return m;
}

std::vector<std::pair<std::string, Message>> seed_messages() {
  std::vector<std::pair<std::string, Message>> out;
  out.emplace_back("hello", request(MessageType::hello));
  const char* names[] = {"gcm128", "gcm256", "cbc128", "cbc256", "chacha"};
  for (uint8_t t = 0; t < 5; ++t) {
    out.emplace_back(std::string("sa_add_") + names[t], request(MessageType::sa_add, good_sa(t)));
  }
  SaRecord v6 = good_sa(1, Direction::inbound, 6);
  v6.flags = kSaFlagUdpEncap;
  out.emplace_back("sa_update_v6_udp", request(MessageType::sa_update, v6));
  out.emplace_back("sa_delete", request(MessageType::sa_delete, SaRef{0x1000, Direction::inbound}));
  out.emplace_back("policy_add_v4", request(MessageType::policy_add, good_policy(4)));
  out.emplace_back("policy_delete_v6", request(MessageType::policy_delete, good_policy(6)));
  CountersQuery q{};
  out.emplace_back("counters_global", request(MessageType::counters_get, q));
  q.scope = kCountersScopeSa;
  q.sa = SaRef{0x1000, Direction::outbound};
  out.emplace_back("counters_sa", request(MessageType::counters_get, q));
  out.emplace_back("sa_list", request(MessageType::sa_list, ListQuery{}));
  return out;
}

}  // namespace traverse::api::testing
