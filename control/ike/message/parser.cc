#include "control/ike/message/parser.hh"

#include "control/ike/message/payload_codec.hh"
#include "control/ike/message/wire.hh"

namespace traverse::ike {
namespace {

Unexpected<ParseError> fail(ParseErrorKind kind, uint8_t payload_type, std::string detail) {
  return unexpected(ParseError{kind, payload_type, std::move(detail)});
}

constexpr uint8_t critical_bit = 0x80;

// Walks a chain of generic payload headers. With allow_encrypted, an SK/SKF
// payload ends the chain: it must be the last bytes of the data.
Expected<std::vector<Payload>, ParseError> parse_chain(uint8_t first, ByteView data,
                                                       const ParseLimits& limits,
                                                       bool allow_encrypted) {
  std::vector<Payload> payloads;
  wire::Reader r(data);
  uint8_t type = first;
  while (type != 0) {
    if (payloads.size() >= limits.max_payloads) {
      return fail(ParseErrorKind::too_many, type,
                  "more than " + std::to_string(limits.max_payloads) + " payloads");
    }
    uint8_t next = 0;
    uint8_t flags = 0;
    uint16_t length = 0;
    if (!r.u8(next) || !r.u8(flags) || !r.u16(length)) {
      return fail(ParseErrorKind::truncated, type,
                  "generic payload header at offset " + std::to_string(r.offset()));
    }
    if (length < generic_payload_header_size) {
      return fail(ParseErrorKind::bad_length, type, "payload length " + std::to_string(length));
    }
    ByteView body;
    if (!r.view(length - generic_payload_header_size, body)) {
      return fail(ParseErrorKind::bad_length, type,
                  "payload length " + std::to_string(length) + " exceeds the remaining " +
                      std::to_string(r.remaining() + generic_payload_header_size) + " bytes");
    }
    const bool critical = (flags & critical_bit) != 0;
    const auto payload_type = static_cast<PayloadType>(type);
    if (!is_known_payload_type(type)) {
      if (critical) {
        return fail(ParseErrorKind::unsupported_critical_payload, type,
                    "critical payload of unknown type " + std::to_string(type));
      }
      payloads.push_back(Payload{payload_type, false,
                                 UnknownPayload{type, false, Bytes(body.begin(), body.end())}});
      type = next;
      continue;
    }
    const bool encrypted = payload_type == PayloadType::sk || payload_type == PayloadType::skf;
    if (encrypted && !allow_encrypted) {
      return fail(ParseErrorKind::invalid_syntax, type, "encrypted payload inside SK");
    }
    auto decoded = codec::decode_body(payload_type, next, body, limits);
    if (!decoded) {
      return unexpected(decoded.error());
    }
    payloads.push_back(Payload{payload_type, critical, std::move(decoded.value())});
    if (encrypted) {
      // Its next-payload field names the first inner payload, not a successor.
      if (!r.empty()) {
        return fail(ParseErrorKind::invalid_syntax, type,
                    std::to_string(r.remaining()) + " bytes after the encrypted payload");
      }
      return payloads;
    }
    type = next;
  }
  if (!r.empty()) {
    return fail(ParseErrorKind::bad_length, 0,
                std::to_string(r.remaining()) + " bytes after the last payload");
  }
  return payloads;
}

}  // namespace

std::string to_string(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::truncated:
      return "truncated";
    case ParseErrorKind::bad_length:
      return "bad length";
    case ParseErrorKind::invalid_major_version:
      return "invalid major version";
    case ParseErrorKind::invalid_syntax:
      return "invalid syntax";
    case ParseErrorKind::unsupported_critical_payload:
      return "unsupported critical payload";
    case ParseErrorKind::too_many:
      return "too many";
    case ParseErrorKind::too_large:
      return "too large";
  }
  return "unknown";
}

NotifyType ParseError::notify() const {
  switch (kind) {
    case ParseErrorKind::invalid_major_version:
      return NotifyType::invalid_major_version;
    case ParseErrorKind::unsupported_critical_payload:
      return NotifyType::unsupported_critical_payload;
    default:
      return NotifyType::invalid_syntax;
  }
}

std::string ParseError::describe() const {
  std::string where =
      payload_type == 0 ? "IKE header" : to_string(static_cast<PayloadType>(payload_type));
  return to_string(kind) + " in " + where + ": " + detail;
}

Expected<Header, ParseError> parse_header(ByteView datagram) {
  wire::Reader r(datagram);
  Header h;
  uint8_t next = 0;
  uint8_t version = 0;
  uint8_t exchange = 0;
  if (!r.u64(h.spi_i) || !r.u64(h.spi_r) || !r.u8(next) || !r.u8(version) || !r.u8(exchange) ||
      !r.u8(h.flags) || !r.u32(h.message_id) || !r.u32(h.length)) {
    return fail(ParseErrorKind::truncated, 0,
                std::to_string(datagram.size()) + " bytes, the IKE header needs 28");
  }
  h.next_payload = static_cast<PayloadType>(next);
  h.major_version = version >> 4;
  h.minor_version = version & 0x0f;
  h.exchange = static_cast<ExchangeType>(exchange);
  if (h.major_version != 2) {
    return fail(ParseErrorKind::invalid_major_version, 0,
                "major version " + std::to_string(h.major_version));
  }
  if (h.length < ike_header_size) {
    return fail(ParseErrorKind::bad_length, 0, "header length " + std::to_string(h.length));
  }
  return h;
}

Expected<Message, ParseError> parse_message(ByteView datagram, const ParseLimits& limits) {
  if (datagram.size() > limits.max_message) {
    return fail(ParseErrorKind::too_large, 0,
                std::to_string(datagram.size()) + "-byte message, limit " +
                    std::to_string(limits.max_message));
  }
  auto header = parse_header(datagram);
  if (!header) {
    return unexpected(header.error());
  }
  if (header->length != datagram.size()) {
    return fail(ParseErrorKind::bad_length, 0,
                "header length " + std::to_string(header->length) + " in a " +
                    std::to_string(datagram.size()) + "-byte datagram");
  }
  auto payloads = parse_chain(static_cast<uint8_t>(header->next_payload),
                              datagram.subspan(ike_header_size), limits, true);
  if (!payloads) {
    return unexpected(payloads.error());
  }
  return Message{header.value(), std::move(payloads.value())};
}

Expected<std::vector<Payload>, ParseError> parse_payload_chain(PayloadType first, ByteView data,
                                                               const ParseLimits& limits) {
  if (data.size() > limits.max_message) {
    return fail(ParseErrorKind::too_large, 0,
                std::to_string(data.size()) + "-byte payload chain, limit " +
                    std::to_string(limits.max_message));
  }
  return parse_chain(static_cast<uint8_t>(first), data, limits, false);
}

}  // namespace traverse::ike
