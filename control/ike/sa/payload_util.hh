// Small helpers over the message codec's payload list used by every exchange:
// find a payload or notify, build a notify. Header-only, stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/message.hh"
#include "control/ike/message/payloads.hh"

namespace traverse::ike {

template <typename Body>
const Body* find_body(const std::vector<Payload>& payloads, PayloadType type) {
  for (const Payload& p : payloads) {
    if (p.type == type) {
      if (const Body* b = std::get_if<Body>(&p.body))
        return b;
    }
  }
  return nullptr;
}

template <typename Body>
std::vector<const Body*> find_all(const std::vector<Payload>& payloads, PayloadType type) {
  std::vector<const Body*> out;
  for (const Payload& p : payloads) {
    if (p.type == type) {
      if (const Body* b = std::get_if<Body>(&p.body))
        out.push_back(b);
    }
  }
  return out;
}

inline const NotifyPayload* find_notify(const std::vector<Payload>& payloads, NotifyType type) {
  for (const Payload& p : payloads) {
    if (p.type != PayloadType::notify)
      continue;
    const auto* n = std::get_if<NotifyPayload>(&p.body);
    if (n != nullptr && n->type == type)
      return n;
  }
  return nullptr;
}

// The first error notify (type < 16384), if any.
inline const NotifyPayload* find_error_notify(const std::vector<Payload>& payloads) {
  for (const Payload& p : payloads) {
    if (p.type != PayloadType::notify)
      continue;
    const auto* n = std::get_if<NotifyPayload>(&p.body);
    if (n != nullptr && static_cast<uint16_t>(n->type) < 16384)
      return n;
  }
  return nullptr;
}

inline Payload make_notify(NotifyType type, Bytes data = {}, ProtocolId protocol = ProtocolId{0},
                           Bytes spi = {}) {
  NotifyPayload n;
  n.protocol = protocol;
  n.spi = std::move(spi);
  n.type = type;
  n.data = std::move(data);
  return make_payload(PayloadType::notify, std::move(n));
}

inline Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}
inline Bytes be64(uint64_t v) {
  Bytes out(8);
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return out;
}
inline std::optional<uint32_t> read_be32(ByteView b) {
  if (b.size() != 4)
    return std::nullopt;
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}
inline std::optional<uint64_t> read_be64(ByteView b) {
  if (b.size() != 8)
    return std::nullopt;
  uint64_t v = 0;
  for (uint8_t x : b)
    v = (v << 8) | x;
  return v;
}

}  // namespace traverse::ike
