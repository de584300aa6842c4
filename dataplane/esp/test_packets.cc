#include "dataplane/esp/test_packets.hh"

#include <cctype>
#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"

namespace traverse::esp::testing {

TestPacket::TestPacket(const std::vector<uint8_t>& bytes, uint32_t headroom, uint32_t tailroom)
    : storage(headroom + bytes.size() + tailroom, 0xa5) {
  if (!bytes.empty()) {  // memcpy from an empty vector's null data() is undefined
    std::memcpy(storage.data() + headroom, bytes.data(), bytes.size());
  }
  view = PacketBuffer(storage.data(), static_cast<uint32_t>(storage.size()), headroom,
                      static_cast<uint32_t>(bytes.size()));
}

std::vector<uint8_t> random_bytes(std::size_t n, std::mt19937& rng) {
  std::vector<uint8_t> out(n);
  for (auto& b : out) {
    b = static_cast<uint8_t>(rng());
  }
  return out;
}

std::vector<uint8_t> make_inner_packet(uint8_t version, uint32_t total_len, std::mt19937& rng) {
  std::vector<uint8_t> p = random_bytes(total_len, rng);
  if (version == 4) {
    p[0] = 0x45;
    p[1] = 0x02;  // ECT(0), so ECN handling is exercised
    store_be16(&p[2], static_cast<uint16_t>(total_len));
    p[6] = 0x40;  // DF
    p[7] = 0;
    p[8] = 64;
    p[9] = 17;
    p[10] = p[11] = 0;
    const uint8_t src[4] = {10, 1, 0, 2};
    const uint8_t dst[4] = {10, 2, 0, 3};
    std::memcpy(&p[12], src, 4);
    std::memcpy(&p[16], dst, 4);
    const uint16_t sum = checksum(p.data(), 20);
    std::memcpy(&p[10], &sum, 2);
    store_be16(&p[24], static_cast<uint16_t>(total_len - 20));
  } else {
    store_be32(&p[0], 0x60000000u);
    store_be16(&p[4], static_cast<uint16_t>(total_len - 40));
    p[6] = 17;
    p[7] = 64;
    store_be16(&p[44], static_cast<uint16_t>(total_len - 40));
  }
  return p;
}

SaConfig make_sa_config(crypto::Transform transform, crypto::Backend backend, uint8_t outer_version,
                        bool udp_encap, std::mt19937& rng) {
  const crypto::TransformInfo info = crypto::transform_info(transform);
  SaConfig c;
  c.spi = 0x1000 + (rng() & 0xffffff);
  c.transform = transform;
  c.backend = backend;
  c.cipher_key = random_bytes(info.cipher_key_len, rng);
  c.salt = random_bytes(info.salt_len, rng);
  c.auth_key = random_bytes(info.auth_key_len, rng);
  c.local = *IpAddress::parse(outer_version == 4 ? "192.0.2.1" : "2001:db8::1");
  c.remote = *IpAddress::parse(outer_version == 4 ? "198.51.100.7" : "2001:db8:1::7");
  c.udp_encap = udp_encap;
  c.local_port = 4500;
  c.remote_port = udp_encap ? 31337 : 4500;
  return c;
}

}  // namespace traverse::esp::testing

namespace traverse::esp::testing {

SaConfig mirror(const SaConfig& outbound) {
  SaConfig in = outbound;
  std::swap(in.local, in.remote);
  std::swap(in.local_port, in.remote_port);
  return in;
}

void fix_outer_lengths(std::vector<uint8_t>& p) {
  uint32_t l4 = 0;
  uint8_t protocol = 0;
  if ((p[0] >> 4) == 4) {
    l4 = (p[0] & 0x0fu) * 4u;
    protocol = p[9];
    store_be16(&p[2], static_cast<uint16_t>(p.size()));
    p[10] = p[11] = 0;
    const uint16_t sum = checksum(p.data(), l4);
    std::memcpy(&p[10], &sum, 2);
  } else {
    l4 = 40;
    protocol = p[6];
    store_be16(&p[4], static_cast<uint16_t>(p.size() - 40));
  }
  if (protocol == 17) {
    store_be16(&p[l4 + 4], static_cast<uint16_t>(p.size() - l4));
  }
}

}  // namespace traverse::esp::testing

namespace traverse::esp::testing {

std::string identifier(crypto::Transform transform) {
  std::string name(crypto::transform_info(transform).name);
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
      ch = '_';
    }
  }
  return name;
}

}  // namespace traverse::esp::testing
