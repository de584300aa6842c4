#include "dataplane/engine/ops/ops_test_packets.hh"

namespace traverse::engine::ops::testing {
namespace {

void put16(Bytes& b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

void put32(Bytes& b, size_t at, uint32_t v) {
  put16(b, at, v >> 16);
  put16(b, at + 2, v & 0xffffu);
}

// resize + copy rather than vector::insert: GCC 12 at -O2 warns falsely
// (-Warray-bounds) on inserting into a freshly sized vector.
void append(Bytes& to, const uint8_t* from, size_t n) {
  const size_t at = to.size();
  to.resize(at + n);
  for (size_t i = 0; i < n; ++i) {
    to[at + i] = from[i];
  }
}

void append(Bytes& to, const Bytes& from) {
  append(to, from.data(), from.size());
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(seed + i * 7);
  }
  return b;
}

}  // namespace

uint16_t ref_sum(const uint8_t* data, size_t len, uint32_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i < len; ++i) {
    sum += (i % 2 == 0) ? static_cast<uint64_t>(data[i]) << 8 : data[i];
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

bool ref_sum_ok(const uint8_t* data, size_t len, uint32_t initial) {
  return ref_sum(data, len, initial) == 0xffff;
}

uint32_t ref_pseudo_sum(const Bytes& pkt, uint8_t protocol, uint32_t l4_len) {
  if ((pkt[0] >> 4) == 4) {
    return ref_sum(pkt.data() + 12, 8) + protocol + l4_len;
  }
  return ref_sum(pkt.data() + 8, 32) + protocol + (l4_len >> 16) + (l4_len & 0xffff);
}

Bytes make_ipv4(const V4Fields& f, const Bytes& payload) {
  const size_t header_len = 20 + f.options.size();
  Bytes p(header_len);
  p[0] = static_cast<uint8_t>(0x40 | header_len / 4);
  p[1] = f.tos;
  put16(p, 2, static_cast<uint32_t>(header_len + payload.size()));
  put16(p, 4, f.id);
  put16(p, 6, f.flags_offset);
  p[8] = f.ttl;
  p[9] = f.protocol;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = f.src[i];
    p[16 + i] = f.dst[i];
  }
  for (size_t i = 0; i < f.options.size(); ++i) {
    p[20 + i] = f.options[i];
  }
  put16(p, 10, static_cast<uint16_t>(~ref_sum(p.data(), header_len)));
  append(p, payload);
  return p;
}

Bytes make_ipv6(uint8_t next, const V6Addr& src, const V6Addr& dst, const Bytes& payload) {
  Bytes p(40);
  p[0] = 0x60;
  put16(p, 4, static_cast<uint32_t>(payload.size()));
  p[6] = next;
  p[7] = 63;
  for (int i = 0; i < 16; ++i) {
    p[8 + i] = src[i];
    p[24 + i] = dst[i];
  }
  append(p, payload);
  return p;
}

Bytes make_tcp(uint8_t flags, const Bytes& options, size_t payload_len) {
  Bytes opts = options;
  while (opts.size() % 4 != 0) {
    opts.push_back(0);
  }
  Bytes t(20);
  put16(t, 0, 40000);
  put16(t, 2, 443);
  put32(t, 4, 0x11223344);
  put32(t, 8, (flags & 0x10) != 0 ? 0x55667788 : 0);
  t[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
  t[13] = flags;
  put16(t, 14, 64240);
  append(t, opts);
  const Bytes data = pattern(payload_len, 0x41);
  append(t, data);
  return t;
}

Bytes make_udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes u(8);
  put16(u, 0, src_port);
  put16(u, 2, dst_port);
  put16(u, 4, static_cast<uint32_t>(8 + payload.size()));
  append(u, payload);
  return u;
}

void set_l4_checksum(Bytes& pkt, size_t l4, uint8_t protocol) {
  const size_t at = protocol == 6 ? 16 : protocol == 17 ? 6 : 2;
  const uint32_t l4_len = static_cast<uint32_t>(pkt.size() - l4);
  put16(pkt, l4 + at, 0);
  const uint32_t pseudo = protocol == 1 ? 0 : ref_pseudo_sum(pkt, protocol, l4_len);
  uint16_t sum = static_cast<uint16_t>(~ref_sum(pkt.data() + l4, l4_len, pseudo));
  if (protocol == 17 && sum == 0) {
    sum = 0xffff;  // RFC 768: zero means "no checksum"
  }
  put16(pkt, l4 + at, sum);
}

Bytes tcp_v4(uint8_t flags, const Bytes& options, size_t payload_len) {
  V4Fields f;
  f.protocol = 6;
  Bytes p = make_ipv4(f, make_tcp(flags, options, payload_len));
  set_l4_checksum(p, 20, 6);
  return p;
}

Bytes tcp_v6(uint8_t flags, const Bytes& options, size_t payload_len) {
  Bytes p = make_ipv6(6, kHostA6, kHostB6, make_tcp(flags, options, payload_len));
  set_l4_checksum(p, 40, 6);
  return p;
}

Bytes udp_v4(size_t total_len, uint16_t flags_offset, const Bytes& options) {
  V4Fields f;
  f.flags_offset = flags_offset;
  f.options = options;
  const size_t header = 20 + options.size();
  Bytes p = make_ipv4(f, make_udp(5000, 53, pattern(total_len - header - 8, 3)));
  set_l4_checksum(p, header, 17);
  return p;
}

Bytes udp_v6(size_t total_len) {
  Bytes p = make_ipv6(17, kHostA6, kHostB6, make_udp(5000, 53, pattern(total_len - 48, 5)));
  set_l4_checksum(p, 40, 17);
  return p;
}

namespace {

// ESP header, sequence number and a patterned "ciphertext".
Bytes esp_body(size_t len, uint32_t spi) {
  Bytes e = pattern(len, 0x90);
  put32(e, 0, spi);
  put32(e, 4, 1);
  return e;
}

}  // namespace

Bytes esp_v4(size_t total_len, uint32_t spi, bool udp, uint16_t peer_port) {
  V4Fields f;
  f.src = kGateway4;
  f.dst = kPeer4;
  f.protocol = udp ? 17 : 50;
  f.flags_offset = 0x4000;
  const size_t body = total_len - 20 - (udp ? 8 : 0);
  const Bytes esp = esp_body(body, spi);
  Bytes p = make_ipv4(f, udp ? make_udp(4500, peer_port, esp) : esp);
  if (udp) {
    put16(p, 26, 0);  // RFC 3948 allows (and most peers send) a zero UDP checksum
  }
  return p;
}

Bytes esp_v6(size_t total_len, uint32_t spi, bool udp, uint16_t peer_port) {
  const size_t body = total_len - 40 - (udp ? 8 : 0);
  const Bytes esp = esp_body(body, spi);
  Bytes p = make_ipv6(udp ? 17 : 50, kGateway6, kPeer6, udp ? make_udp(4500, peer_port, esp) : esp);
  if (udp) {
    set_l4_checksum(p, 40, 17);
  }
  return p;
}

Bytes icmp4_error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quoted,
                  size_t quote_len) {
  Bytes icmp(8);
  icmp[0] = type;
  icmp[1] = code;
  put32(icmp, 4, rest);
  append(icmp, quoted.data(), quote_len);
  put16(icmp, 2, static_cast<uint16_t>(~ref_sum(icmp.data(), icmp.size())));
  V4Fields f;
  f.src = kRouter4;
  f.dst = kGateway4;
  f.protocol = 1;
  return make_ipv4(f, icmp);
}

Bytes icmp6_error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quoted,
                  size_t quote_len) {
  Bytes icmp(8);
  icmp[0] = type;
  icmp[1] = code;
  put32(icmp, 4, rest);
  append(icmp, quoted.data(), quote_len);
  Bytes p = make_ipv6(58, kRouter6, kGateway6, icmp);
  set_l4_checksum(p, 40, 58);
  return p;
}

Bytes ref_reassemble_v4(const std::vector<Bytes>& fragments) {
  struct Piece {
    size_t offset;
    const Bytes* frag;
    size_t header;
  };
  std::vector<Piece> pieces;
  for (const Bytes& f : fragments) {
    if (f.size() < 20 || (f[0] >> 4) != 4) {
      return {};
    }
    const size_t header = static_cast<size_t>(f[0] & 15u) * 4u;
    const size_t total = static_cast<size_t>(f[2]) << 8 | f[3];
    if (header < 20 || total != f.size() || total < header || !ref_sum_ok(f.data(), header)) {
      return {};
    }
    const size_t offset = (static_cast<size_t>(f[6] & 0x1f) << 8 | f[7]) * 8;
    pieces.push_back({offset, &f, header});
  }
  if (pieces.empty()) {
    return {};
  }
  for (size_t i = 1; i < pieces.size(); ++i) {
    for (size_t j = i; j > 0 && pieces[j].offset < pieces[j - 1].offset; --j) {
      std::swap(pieces[j], pieces[j - 1]);
    }
  }
  const Bytes& first = *pieces[0].frag;
  if (pieces[0].offset != 0) {
    return {};
  }
  Bytes out(first.begin(), first.begin() + static_cast<long>(pieces[0].header));
  size_t next = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Bytes& f = *pieces[i].frag;
    const bool more = (f[6] & 0x20) != 0;
    if (pieces[i].offset != next || f[4] != first[4] || f[5] != first[5] ||
        more != (i + 1 < pieces.size())) {
      return {};
    }
    append(out, f.data() + pieces[i].header, f.size() - pieces[i].header);
    next += f.size() - pieces[i].header;
  }
  put16(out, 2, static_cast<uint32_t>(out.size()));
  out[6] = static_cast<uint8_t>(out[6] & ~0x20);
  put16(out, 10, 0);
  put16(out, 10, static_cast<uint16_t>(~ref_sum(out.data(), pieces[0].header)));
  return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    s.push_back(kDigits[data[i] >> 4]);
    s.push_back(kDigits[data[i] & 15]);
  }
  return s;
}

}  // namespace traverse::engine::ops::testing
