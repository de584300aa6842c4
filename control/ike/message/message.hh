// An IKEv2 message: the fixed header (RFC 7296 3.1) and its payloads, with
// lookups the exchange tasks use. Plain values: safe to use from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "control/ike/message/constants.hh"
#include "control/ike/message/payloads.hh"

namespace traverse::ike {

inline constexpr std::size_t ike_header_size = 28;
inline constexpr std::size_t generic_payload_header_size = 4;
inline constexpr std::size_t skf_header_size = 8;

struct Header {
  uint64_t spi_i = 0;  // host order; big-endian on the wire
  uint64_t spi_r = 0;
  PayloadType next_payload = PayloadType::none;
  uint8_t major_version = 2;
  uint8_t minor_version = 0;
  ExchangeType exchange = ExchangeType::ike_sa_init;
  uint8_t flags = 0;
  uint32_t message_id = 0;
  uint32_t length = 0;  // filled in by the builder

  bool is_initiator() const { return (flags & header_flags::initiator) != 0; }
  bool is_response() const { return (flags & header_flags::response) != 0; }
  bool operator==(const Header&) const = default;
};

struct Message {
  Header header;
  std::vector<Payload> payloads;

  const Payload* find(PayloadType type) const;
  std::vector<const Payload*> find_all(PayloadType type) const;
  const NotifyPayload* find_notify(NotifyType type) const;
  // The body of the first payload of `type`, if it has that kind of body.
  template <typename T>
  const T* first(PayloadType type) const {
    const Payload* p = find(type);
    return p != nullptr ? p->get<T>() : nullptr;
  }
  bool operator==(const Message&) const = default;
};

}  // namespace traverse::ike
