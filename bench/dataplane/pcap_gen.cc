// dataplane-pcap-gen: the input capture and the matching traverse-dataplane
// config for one case of the dataplane benchmark (scripts/bench-dataplane.sh).
//
//   outbound: Ethernet + inner IPv4/UDP packets from the protected server to
//             N client inner addresses (uniformly random), read on the INSIDE
//             port; the config has N outbound SAs and one /32 policy each.
//   inbound:  the same inner packets from the clients, encrypted by the ESP
//             core with N client SAs (plain ESP or RFC 3948 ESP-in-UDP,
//             AES-128-GCM, sequence numbers 1, 2, ... per SA), read on the
//             OUTSIDE port; the config has the N inbound SAs with the same keys.
//
// Sizes are Ethernet frame lengths of the inner packet (no FCS), so an inbound
// frame is larger by the ESP overhead. --sizes takes LEN or LEN:WEIGHT,...
// (IMIX); a mix is laid out in shuffled blocks so every window of the capture
// has the same proportions. SA i has SPI 0x1000+i, key and salt derived from
// (seed, i), client inner address 10.128.0.0+i and public address
// 198.18.0.0+i. The pcap is written by hand (classic libpcap format).
// Single-threaded; a benchmark tool, not part of the dataplane.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/packet_buffer.hh"
#include "dataplane/esp/sa_config.hh"
#include "drivers/crypto/thread_context.hh"

namespace traverse::bench {
namespace {

constexpr uint32_t kEthernetLen = 14;
constexpr uint32_t kSpiBase = 0x1000;
constexpr uint32_t kMaxSas = 1u << 17;  // 198.18.0.0/15 holds the client addresses
constexpr uint8_t kGatewayMac[6] = {0x02, 0, 0, 0, 0, 0x01};
constexpr uint8_t kRouterMac[6] = {0x02, 0, 0, 0, 0x0f, 0xfe};
constexpr uint8_t kServerMac[6] = {0x02, 0, 0, 0, 0x0a, 0x0a};
constexpr uint8_t kServer[4] = {10, 1, 0, 10};
constexpr uint8_t kGatewayOutside[4] = {192, 0, 2, 1};
constexpr const char* kRouterMacText = "02:00:00:00:0f:fe";
constexpr const char* kServerMacText = "02:00:00:00:0a:0a";

struct Options {
  std::string direction = "outbound";
  std::string sizes = "64";
  std::string encap = "esp";
  uint32_t sas = 1;
  uint32_t packets = 4096;
  uint64_t seed = 1;
  std::string pcap;
  std::string empty_pcap;
  std::string config;
  uint32_t workers = 1;
  std::string lcores;
  std::string file_prefix = "dpbench";
  std::string api_socket = "/tmp/dpbench/api.sock";
  uint32_t memory_mb = 1024;
  uint32_t mbufs = 0;  // 0: packets + 16384
  bool config_only = false;
  std::string tx_pcap;  // verification runs: the transmitting port writes here
  bool once = false;    // verification runs: replay the capture once, not forever
  // RSS stand-in: also write PCAP.q0 .. PCAP.q(N-1), each flow (SA) on one
  // queue chosen by a hash; the config then gives each worker its own queue.
  uint32_t queues = 1;
};

struct SizeWeight {
  uint32_t frame;
  uint32_t weight;
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Key material of SA `index`: 16 key bytes then 4 salt bytes.
std::vector<uint8_t> key_material(uint64_t seed, uint32_t index) {
  std::vector<uint8_t> out(24);
  for (uint32_t w = 0; w < 3; ++w) {
    const uint64_t v = splitmix64(seed * 0x100000001b3ull + index * 4ull + w);
    std::memcpy(&out[w * 8], &v, 8);
  }
  out.resize(20);
  return out;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string ipv4_text(uint32_t host_order) {
  return std::to_string(host_order >> 24) + "." + std::to_string((host_order >> 16) & 255) + "." +
         std::to_string((host_order >> 8) & 255) + "." + std::to_string(host_order & 255);
}

uint32_t client_inner(uint32_t i) {
  return (10u << 24 | 128u << 16) + i;
}
uint32_t client_public(uint32_t i) {
  return (198u << 24 | 18u << 16) + i;
}

std::vector<SizeWeight> parse_sizes(const std::string& text) {
  std::vector<SizeWeight> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    const size_t colon = item.find(':');
    SizeWeight sw{static_cast<uint32_t>(std::stoul(item.substr(0, colon))), 1};
    if (colon != std::string::npos) {
      sw.weight = static_cast<uint32_t>(std::stoul(item.substr(colon + 1)));
    }
    if (sw.frame < 60 || sw.frame > 1514 || sw.weight == 0) {
      throw std::invalid_argument("size " + item + ": frames are 60..1514 bytes, weights >= 1");
    }
    out.push_back(sw);
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

// Frame sizes for `count` packets: the mix repeated in blocks, each block
// shuffled, so every window of one block has the exact proportions.
std::vector<uint32_t> frame_sizes(const std::vector<SizeWeight>& mix, uint32_t count,
                                  std::mt19937_64& rng) {
  std::vector<uint32_t> block;
  for (const SizeWeight& sw : mix) {
    block.insert(block.end(), sw.weight, sw.frame);
  }
  std::vector<uint32_t> out;
  out.reserve(count);
  while (out.size() < count) {
    std::shuffle(block.begin(), block.end(), rng);
    out.insert(out.end(), block.begin(), block.end());
  }
  out.resize(count);
  return out;
}

// An inner IPv4/UDP packet of `ip_len` bytes with a valid header checksum.
void write_inner(uint8_t* p, uint32_t ip_len, const uint8_t* src, const uint8_t* dst, uint16_t id,
                 uint16_t sport, uint16_t dport) {
  for (uint32_t i = 28; i < ip_len; ++i) {
    p[i] = static_cast<uint8_t>(i * 29 + id);
  }
  p[0] = 0x45;
  p[1] = 0;
  esp::store_be16(p + 2, static_cast<uint16_t>(ip_len));
  esp::store_be16(p + 4, id);
  p[6] = 0;
  p[7] = 0;
  p[8] = 64;
  p[9] = 17;
  p[10] = p[11] = 0;
  std::memcpy(p + 12, src, 4);
  std::memcpy(p + 16, dst, 4);
  const uint16_t sum = esp::checksum(p, 20);
  std::memcpy(p + 10, &sum, 2);
  esp::store_be16(p + 20, sport);
  esp::store_be16(p + 22, dport);
  esp::store_be16(p + 24, static_cast<uint16_t>(ip_len - 20));
  p[26] = p[27] = 0;  // no UDP checksum (allowed for IPv4)
}

void write_ethernet(uint8_t* p, const uint8_t* dst, const uint8_t* src) {
  std::memcpy(p, dst, 6);
  std::memcpy(p + 6, src, 6);
  esp::store_be16(p + 12, 0x0800);
}

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : out_(path, std::ios::binary) {
    if (!out_) {
      throw std::runtime_error(path + ": cannot open for writing");
    }
    // Classic pcap: magic, version 2.4, GMT offset, accuracy, snaplen, Ethernet.
    const uint32_t header[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    out_.write(reinterpret_cast<const char*>(header), sizeof header);
  }
  void write(const uint8_t* frame, uint32_t len) {
    const uint32_t record[4] = {static_cast<uint32_t>(1700000000 + count_ / 1000000),
                                static_cast<uint32_t>(count_ % 1000000), len, len};
    out_.write(reinterpret_cast<const char*>(record), sizeof record);
    out_.write(reinterpret_cast<const char*>(frame), len);
    ++count_;
  }
  void close() {
    out_.close();
    if (!out_) {
      throw std::runtime_error("pcap write failed");
    }
  }

 private:
  std::ofstream out_;
  uint32_t count_ = 0;
};

esp::SaConfig client_sa(const Options& o, uint32_t index) {
  const std::vector<uint8_t> km = key_material(o.seed, index);
  esp::SaConfig c;
  c.spi = kSpiBase + index;
  c.transform = crypto::Transform::aes_gcm_128;
  c.cipher_key.assign(km.begin(), km.begin() + 16);
  c.salt.assign(km.begin() + 16, km.end());
  uint8_t pub[4];
  esp::store_be32(pub, client_public(index));
  c.local = esp::IpAddress::from_v4(pub);
  c.remote = esp::IpAddress::from_v4(kGatewayOutside);
  c.udp_encap = o.encap == "udp";
  c.replay_window = 0;
  return c;
}

// The queue a flow (the SA's traffic) lands on: a hash, as RSS would pick,
// not aligned with the dataplane's SA owners (SPI % workers), so about
// (N-1)/N of the packets are handed over to another worker, as with a NIC.
uint32_t flow_queue(uint32_t sa, uint32_t queues) {
  return static_cast<uint32_t>(splitmix64(0x5eed0000u + sa) % queues);
}

std::string queue_pcap(const std::string& pcap, uint32_t queue) {
  return pcap + ".q" + std::to_string(queue);
}

// The whole capture, plus one per queue when the capture is split.
class CaptureSet {
 public:
  CaptureSet(const std::string& pcap, uint32_t queues) : all_(pcap) {
    for (uint32_t q = 0; queues > 1 && q < queues; ++q) {
      split_.push_back(std::make_unique<PcapWriter>(queue_pcap(pcap, q)));
    }
  }
  void write(uint32_t sa, const uint8_t* frame, uint32_t len) {
    all_.write(frame, len);
    if (!split_.empty()) {
      split_[flow_queue(sa, static_cast<uint32_t>(split_.size()))]->write(frame, len);
    }
  }
  void close() {
    all_.close();
    for (auto& w : split_) {
      w->close();
    }
  }

 private:
  PcapWriter all_;
  std::vector<std::unique_ptr<PcapWriter>> split_;
};

void write_capture(const Options& o) {
  std::mt19937_64 rng(o.seed);
  const std::vector<uint32_t> sizes = frame_sizes(parse_sizes(o.sizes), o.packets, rng);
  std::uniform_int_distribution<uint32_t> pick(0, o.sas - 1);
  std::vector<uint32_t> sa_of(o.packets);
  for (uint32_t& s : sa_of) {
    s = o.sas == 1 ? 0 : pick(rng);
  }
  CaptureSet pcap(o.pcap, o.queues);
  constexpr uint32_t kHeadroom = 128;
  std::vector<uint8_t> buffer(kHeadroom + 2048);
  if (o.direction == "outbound") {
    for (uint32_t i = 0; i < o.packets; ++i) {
      uint8_t* frame = buffer.data() + kHeadroom;
      uint8_t dst[4];
      esp::store_be32(dst, client_inner(sa_of[i]));
      write_ethernet(frame, kGatewayMac, kServerMac);
      write_inner(frame + kEthernetLen, sizes[i] - kEthernetLen, kServer, dst,
                  static_cast<uint16_t>(i), 7, 5000);
      pcap.write(sa_of[i], frame, sizes[i]);
    }
    pcap.close();
    return;
  }
  // Inbound: each SA encrypts its own packets in capture order, so sequence
  // numbers rise 1, 2, ... per SA; one SA's state lives at a time.
  std::vector<std::vector<uint32_t>> by_sa(o.sas);
  for (uint32_t i = 0; i < o.packets; ++i) {
    by_sa[sa_of[i]].push_back(i);
  }
  std::vector<std::vector<uint8_t>> frames(o.packets);
  crypto::ThreadContext thread;
  for (uint32_t s = 0; s < o.sas; ++s) {
    if (by_sa[s].empty()) {
      continue;
    }
    std::string error;
    std::unique_ptr<esp::OutboundSa> sa = esp::OutboundSa::create(client_sa(o, s), &error);
    if (!sa) {
      throw std::runtime_error("client SA " + std::to_string(s) + ": " + error);
    }
    uint8_t src[4];
    esp::store_be32(src, client_inner(s));
    for (uint32_t i : by_sa[s]) {
      const uint32_t ip_len = sizes[i] - kEthernetLen;
      write_inner(buffer.data() + kHeadroom, ip_len, src, kServer, static_cast<uint16_t>(i), 5000,
                  7);
      esp::PacketBuffer pkt(buffer.data(), static_cast<uint32_t>(buffer.size()), kHeadroom, ip_len);
      const esp::Status status = sa->encrypt(thread, pkt);
      if (status != esp::Status::ok) {
        throw std::runtime_error("encrypt: " + std::string(esp::status_name(status)));
      }
      std::vector<uint8_t>& f = frames[i];
      f.resize(kEthernetLen + pkt.length());
      write_ethernet(f.data(), kGatewayMac, kRouterMac);
      std::memcpy(f.data() + kEthernetLen, pkt.data(), pkt.length());
    }
  }
  for (uint32_t i = 0; i < o.packets; ++i) {
    pcap.write(sa_of[i], frames[i].data(), static_cast<uint32_t>(frames[i].size()));
  }
  pcap.close();
}

void write_empty_pcap(const std::string& path) {
  PcapWriter pcap(path);
  pcap.close();
}

// net_pcap makes one TX (drop) queue per rx_pcap when no tx_pcap is given:
// each worker needs one, so a file is listed once per worker. Unsplit, the
// same capture everywhere and the dataplane polls queue 0 only (one RX queue
// without RSS); split, queue w replays PCAP.qw and every worker polls its own.
std::string device(const std::string& name, const std::string& pcap, uint32_t workers,
                   bool infinite, const std::string& tx_pcap, bool split) {
  std::string d = name;
  for (uint32_t w = 0; w < workers; ++w) {
    d += ",rx_pcap=" + (split ? queue_pcap(pcap, w) : pcap);
  }
  for (uint32_t w = 0; w < workers && !tx_pcap.empty(); ++w) {
    d += ",tx_pcap=" + tx_pcap + (w == 0 ? "" : "." + std::to_string(w));
  }
  return infinite ? d + ",infinite_rx=1" : d;
}

void write_config(const Options& o) {
  std::ofstream out(o.config);
  if (!out) {
    throw std::runtime_error(o.config + ": cannot open for writing");
  }
  uint32_t max_sas = 1024;
  while (max_sas < 2 * o.sas) {
    max_sas *= 2;
  }
  const bool inbound = o.direction == "inbound";
  const bool split = o.queues > 1 && o.queues == o.workers;
  const uint32_t mbufs = o.mbufs != 0 ? o.mbufs : o.packets + 16384;
  out << "# dataplane benchmark: " << o.direction << " " << o.sizes << " " << o.encap << " "
      << o.sas << " SA(s), " << o.workers << " worker(s); generated by dataplane-pcap-gen\n";
  out << "[dataplane]\nworkers = " << o.workers << "\n";
  out << "eal = [\"--no-huge\", \"-m\", \"" << o.memory_mb
      << "\", \"--no-pci\", \"--no-shconf\", \"--file-prefix\", \"" << o.file_prefix
      << "\", \"--log-level\", \"error\"";
  if (!o.lcores.empty()) {
    out << ", \"--lcores\", \"" << o.lcores << "\"";
  }
  out << "]\napi_socket = \"" << o.api_socket << "\"\nmbufs = " << mbufs
      << "\nmax_sas = " << max_sas << "\nreplay_window_disabled = true\n\n";
  out << "[dataplane.outside]\ndevice = \""
      << device("net_pcap_out", inbound ? o.pcap : o.empty_pcap, o.workers, inbound && !o.once,
                inbound ? "" : o.tx_pcap, split && inbound)
      << "\"\naddress = \"192.0.2.1/24\"\ngateway = \"192.0.2.254\"\nmtu = 1500\n"
      << (split && inbound ? "queues_spread_flows = true\n" : "") << "\n";
  out << "[dataplane.inside]\ndevice = \""
      << device("net_pcap_in", inbound ? o.empty_pcap : o.pcap, o.workers, !inbound && !o.once,
                inbound ? o.tx_pcap : "", split && !inbound)
      << "\"\naddress = \"10.1.0.1/24\"\nmtu = 1500\n"
      << (split && !inbound ? "queues_spread_flows = true\n" : "");
  for (uint32_t i = 0; i < o.sas; ++i) {
    const std::vector<uint8_t> km = key_material(o.seed, i);
    out << "\n[[dataplane.sa]]\ndirection = \"" << o.direction << "\"\nspi = " << kSpiBase + i
        << "\nkey = \"" << hex(km.data(), 16) << "\"\nsalt = \"" << hex(km.data() + 16, 4)
        << "\"\nlocal = \"192.0.2.1\"\nremote = \"" << ipv4_text(client_public(i))
        << "\"\nudp_encap = " << (o.encap == "udp" ? "true" : "false") << "\n";
  }
  if (!inbound) {
    for (uint32_t i = 0; i < o.sas; ++i) {
      out << "\n[[dataplane.policy]]\nselector = \"" << ipv4_text(client_inner(i))
          << "/32\"\nspi = " << kSpiBase + i << "\n";
    }
  }
  out << "\n[[dataplane.neighbor]]\nport = \"outside\"\naddress = \"192.0.2.254\"\nmac = \""
      << kRouterMacText << "\"\n";
  out << "\n[[dataplane.neighbor]]\nport = \"inside\"\naddress = \"10.1.0.10\"\nmac = \""
      << kServerMacText << "\"\n";
  out.close();
  if (!out) {
    throw std::runtime_error(o.config + ": write failed");
  }
}

}  // namespace
}  // namespace traverse::bench

int main(int argc, char** argv) {
  using traverse::bench::Options;
  Options o;
  CLI::App app{"dataplane-pcap-gen: input capture and config for one dataplane benchmark case"};
  app.add_option("--direction", o.direction, "outbound (inside port) or inbound (outside port)")
      ->check(CLI::IsMember({"outbound", "inbound"}));
  app.add_option("--sizes", o.sizes, "frame sizes: LEN or LEN:WEIGHT,LEN:WEIGHT,...");
  app.add_option("--encap", o.encap, "esp or udp (RFC 3948)")->check(CLI::IsMember({"esp", "udp"}));
  app.add_option("--sas", o.sas, "number of SAs")->check(CLI::Range(1u, traverse::bench::kMaxSas));
  app.add_option("--packets", o.packets, "packets in the capture")->check(CLI::Range(1u, 1u << 22));
  app.add_option("--seed", o.seed, "random seed (SA choice, IMIX order, keys)");
  app.add_option("--pcap", o.pcap, "input capture to write (and to name in the config)")
      ->required();
  app.add_option("--empty-pcap", o.empty_pcap, "an empty capture for the idle port (written)");
  app.add_option("--config", o.config, "traverse-dataplane TOML config to write");
  app.add_option("--workers", o.workers, "dataplane workers")->check(CLI::Range(1u, 64u));
  app.add_option("--lcores", o.lcores, "EAL --lcores mapping (default: -l 0-WORKERS)");
  app.add_option("--file-prefix", o.file_prefix, "EAL --file-prefix");
  app.add_option("--api-socket", o.api_socket, "dataplane API socket path");
  app.add_option("--memory-mb", o.memory_mb, "EAL -m (no hugepages)");
  app.add_option("--mbufs", o.mbufs, "mbuf pool size (default: packets + 16384)");
  app.add_flag("--config-only", o.config_only, "write the config only (the capture exists)");
  app.add_option("--tx-pcap", o.tx_pcap, "verification: the transmitting port writes this file");
  app.add_flag("--once", o.once, "verification: read the capture once (no infinite_rx)");
  app.add_option("--queues", o.queues,
                 "RSS stand-in: also write PCAP.qN per queue (flows split by hash); with "
                 "--workers equal to it, the config gives each worker its own queue")
      ->check(CLI::Range(1u, 64u));
  CLI11_PARSE(app, argc, argv);
  try {
    if (!o.config_only) {
      traverse::bench::write_capture(o);
    }
    if (!o.config.empty()) {
      if (o.empty_pcap.empty()) {
        throw std::invalid_argument("--config needs --empty-pcap for the idle port");
      }
      if (!o.config_only) {
        traverse::bench::write_empty_pcap(o.empty_pcap);
      }
      traverse::bench::write_config(o);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dataplane-pcap-gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
