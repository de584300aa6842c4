#include "bench/bench_fixture.hh"

#include <cstring>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/outbound_sa.hh"

namespace traverse::bench {
namespace {

std::vector<uint8_t> pattern(std::size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<uint8_t>(seed + i * 29);
  }
  return out;
}

// An inner IPv4/UDP packet of exactly `len` bytes with a valid header checksum.
std::vector<uint8_t> make_inner(uint32_t len) {
  std::vector<uint8_t> p = pattern(len, static_cast<uint8_t>(len));
  p[0] = 0x45;
  p[1] = 0x00;
  esp::store_be16(&p[2], static_cast<uint16_t>(len));
  esp::store_be16(&p[4], 0x1234);
  p[6] = 0x40;  // DF
  p[7] = 0;
  p[8] = 64;
  p[9] = 17;
  p[10] = p[11] = 0;
  const uint8_t addrs[8] = {10, 1, 0, 2, 10, 2, 0, 3};
  std::memcpy(&p[12], addrs, sizeof addrs);
  const uint16_t sum = esp::checksum(p.data(), 20);
  std::memcpy(&p[10], &sum, 2);
  esp::store_be16(&p[20], 40000);
  esp::store_be16(&p[22], 5201);
  esp::store_be16(&p[24], static_cast<uint16_t>(len - 20));
  p[26] = p[27] = 0;
  return p;
}

}  // namespace

const std::vector<SizeSpec>& size_specs() {
  static const std::vector<SizeSpec> specs = {
      {"64", {64}},
      {"512", {512}},
      {"1420", {1420}},
      {"imix", {64, 576, 64, 64, 1500, 64, 576, 64, 576, 64, 576, 64}},
  };
  return specs;
}

crypto::ThreadContext& bench_thread() {
  static crypto::ThreadContext thread;
  return thread;
}

esp::SaConfig outbound_config(crypto::Transform transform, crypto::Backend backend, bool udp) {
  const crypto::TransformInfo info = crypto::transform_info(transform);
  esp::SaConfig c;
  c.spi = 0x0a0b0c0d;
  c.transform = transform;
  c.backend = backend;
  c.cipher_key = pattern(info.cipher_key_len, 0x11);
  c.salt = pattern(info.salt_len, 0x22);
  c.auth_key = pattern(info.auth_key_len, 0x33);
  c.local = *esp::IpAddress::parse("192.0.2.1");
  c.remote = *esp::IpAddress::parse("198.51.100.7");
  c.udp_encap = udp;
  c.local_port = esp::kNatTraversalPort;
  c.remote_port = esp::kNatTraversalPort;
  return c;
}

esp::SaConfig inbound_config(const esp::SaConfig& outbound) {
  esp::SaConfig in = outbound;
  std::swap(in.local, in.remote);
  std::swap(in.local_port, in.remote_port);
  in.replay_window = 0;
  return in;
}

EspLayout esp_layout(crypto::Transform transform, bool udp, uint32_t inner_len) {
  const crypto::TransformInfo info = crypto::transform_info(transform);
  constexpr uint32_t kTrailerLen = 2;
  const uint32_t pad = (0u - (inner_len + kTrailerLen)) & (info.block_size - 1u);
  EspLayout l;
  l.outer_len = 20 + (udp ? 8 : 0);
  l.prefix_len = 8 + info.iv_len;
  l.payload_len = inner_len + pad + kTrailerLen;
  l.icv_len = info.icv_len;
  return l;
}

AlignedBuffer::AlignedBuffer(std::size_t size)
    : bytes_(static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) & ~std::size_t{63}))) {
  std::memset(bytes_.get(), 0, size);
}

esp::PacketBuffer PacketSlot::restore_outer() const {
  std::memcpy(buffer.data() + outer_offset, outer.data(), outer.size());
  return {buffer.data(), kBufferSize, outer_offset, static_cast<uint32_t>(outer.size())};
}

PacketSet::PacketSet(const SizeSpec& size, crypto::Transform transform, bool udp)
    : slots(size.lengths.size()) {
  for (std::size_t i = 0; i < slots.size(); ++i) {
    slots[i].inner = make_inner(size.lengths[i]);
    slots[i].layout = esp_layout(transform, udp, size.lengths[i]);
    std::memcpy(slots[i].inner_start(), slots[i].inner.data(), slots[i].inner.size());
    inner_bytes += size.lengths[i];
  }
}

std::string PacketSet::seal_all(const esp::SaConfig& config) {
  std::string error;
  auto sa = esp::OutboundSa::create(config, &error);
  if (!sa) {
    return error;
  }
  for (PacketSlot& s : slots) {
    esp::PacketBuffer pkt = s.inner_view();
    std::memcpy(pkt.data(), s.inner.data(), s.inner.size());
    const esp::Status status = sa->encrypt(bench_thread(), pkt);
    if (status != esp::Status::ok) {
      return "encrypt: " + std::string(esp::status_name(status));
    }
    const EspLayout& l = s.layout;
    if (pkt.length() != l.outer_len + l.prefix_len + l.payload_len + l.icv_len ||
        pkt.data() + l.outer_len != s.esp_start()) {
      return "the ESP packet does not have the expected layout";
    }
    s.outer.assign(pkt.data(), pkt.end());
    s.outer_offset = pkt.headroom();
  }
  return {};
}

void set_counters(benchmark::State& state, const PacketSet& set, double median_ns_per_iteration) {
  const double packets = static_cast<double>(state.iterations()) * set.slots.size();
  const double bytes = static_cast<double>(state.iterations()) * set.inner_bytes;
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["Gbps"] = benchmark::Counter(bytes * 8 / 1e9, benchmark::Counter::kIsRate);
  // kIsRate | kInvert gives seconds per unit; scaling the count by 1e-9 gives ns.
  state.counters["ns_per_pkt"] =
      benchmark::Counter(packets * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["p50_ns_per_pkt"] =
      median_ns_per_iteration / static_cast<double>(set.slots.size());
}

}  // namespace traverse::bench
