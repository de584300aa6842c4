// Internal to this folder: encoding and decoding of single payload bodies
// (everything after the 4-byte generic header). Stateless; thread-safe.
#pragma once

#include <optional>

#include "control/ike/bytes.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/message/payloads.hh"

namespace traverse::ike::codec {

// Decodes the body of a known payload type; `next_payload` is the generic
// header's field (SK and SKF keep it as their first inner type).
Expected<PayloadBody, ParseError> decode_body(PayloadType type, uint8_t next_payload, ByteView body,
                                              const ParseLimits& limits);

// Appends the encoded body; false when a length field would overflow.
bool encode_body(const PayloadBody& body, Bytes& out);

// The value the generic header's next-payload field takes for an SK/SKF
// payload (its first inner type), if `body` is one.
std::optional<PayloadType> inner_next(const PayloadBody& body);

}  // namespace traverse::ike::codec
