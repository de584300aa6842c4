// What the ESP benchmarks share: SA configs with fixed keys, the packet sizes
// (fixed and IMIX), and packet slots laid out like an mbuf (64-byte aligned,
// 128 bytes of headroom) holding a pristine inner packet and its pristine ESP
// packet. Benchmarks only; single-threaded, one crypto::ThreadContext.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"
#include "drivers/crypto/thread_context.hh"
#include "drivers/crypto/transform.hh"

namespace traverse::bench {

// Where the inner packet starts in its buffer (DPDK's RTE_PKTMBUF_HEADROOM).
inline constexpr uint32_t kHeadroom = 128;
inline constexpr uint32_t kBufferSize = 2048 + 2 * kHeadroom;
// ESP encrypts in place, so each iteration restores the inner IPv4 header
// (what encrypt() reads) before encrypting again.
inline constexpr uint32_t kInnerHeaderLen = 20;

// One size column: the inner IPv4 packet lengths processed per iteration.
struct SizeSpec {
  std::string_view name;  // "64", "512", "1420", "imix"
  std::vector<uint32_t> lengths;
};

// 64, 512, 1420 and the simple IMIX: 7:4:1 of 64/576/1500-byte IP packets
// (the IP-layer sizes, not the 64/594/1518 Ethernet frames), interleaved.
const std::vector<SizeSpec>& size_specs();

// The one ThreadContext (ipsec-mb manager) every benchmark runs on.
crypto::ThreadContext& bench_thread();

// An outbound SA config with fixed keys: 192.0.2.1 -> 198.51.100.7, IPv4
// outer, optionally ESP-in-UDP on 4500/4500.
esp::SaConfig outbound_config(crypto::Transform transform, crypto::Backend backend, bool udp);
// The receiving side of `outbound`, with the replay check disabled
// (replay_window = 0) so the same pristine packet decrypts every iteration.
esp::SaConfig inbound_config(const esp::SaConfig& outbound);

// ESP sizes of a packet, as esp_encrypt.cc computes them.
struct EspLayout {
  uint32_t outer_len = 0;    // outer IP (+ UDP) header
  uint32_t prefix_len = 0;   // ESP header + IV: from the ESP header to the payload
  uint32_t payload_len = 0;  // encrypted: inner + padding + 2-byte trailer
  uint32_t icv_len = 0;
};
EspLayout esp_layout(crypto::Transform transform, bool udp, uint32_t inner_len);

class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t size);
  uint8_t* data() const { return bytes_.get(); }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> bytes_;
};

// One packet of a benchmark: its buffer, the pristine inner packet and, once
// seal_all() ran, the pristine ESP packet that starts at `outer_offset`.
struct PacketSlot {
  AlignedBuffer buffer{kBufferSize};
  std::vector<uint8_t> inner;
  std::vector<uint8_t> outer;
  uint32_t outer_offset = 0;
  EspLayout layout;

  uint8_t* inner_start() const { return buffer.data() + kHeadroom; }
  uint8_t* esp_start() const { return inner_start() - layout.prefix_len; }
  // A fresh view of the inner packet, as a driver would hand it over.
  esp::PacketBuffer inner_view() const {
    return {buffer.data(), kBufferSize, kHeadroom, static_cast<uint32_t>(inner.size())};
  }
  // The pristine ESP packet copied back into the buffer, and a view of it.
  esp::PacketBuffer restore_outer() const;
};

struct PacketSet {
  std::vector<PacketSlot> slots;
  uint64_t inner_bytes = 0;  // per iteration

  // Inner packets of the sizes in `size`, ESP layout of `transform`.
  PacketSet(const SizeSpec& size, crypto::Transform transform, bool udp);
  // Iterations per BlockTimer block: about 64 packets.
  uint32_t iterations_per_block() const {
    return std::max<uint32_t>(1, 64 / static_cast<uint32_t>(slots.size()));
  }
  // Encrypts every inner packet once with a fresh OutboundSa for `config` and
  // keeps the results as the pristine ESP packets. Empty string on success.
  std::string seal_all(const esp::SaConfig& config);
};

// Sets the counters every case reports: bytes/items processed (inner bytes),
// "Gbps" (inner bits per second) and "ns_per_pkt" from Google Benchmark's
// CPU time (means over the run), and "p50_ns_per_pkt", the median block from
// BlockTimer (`median_ns_per_iteration`), which the report uses.
void set_counters(benchmark::State& state, const PacketSet& set, double median_ns_per_iteration);

}  // namespace traverse::bench
