// Parses IKEv2 datagrams (RFC 7296 section 3) and decrypted inner payload
// chains into Message/Payload values, checking every length and bounding every
// count. Stateless functions: safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/message.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// Bounds that keep a hostile peer from making us allocate or loop much.
struct ParseLimits {
  std::size_t max_message = 65535;
  std::size_t max_payloads = 64;
  std::size_t max_proposals = 32;
  std::size_t max_transforms = 64;  // per proposal
  std::size_t max_selectors = 16;   // per TS payload
  std::size_t max_config_attributes = 64;
  std::size_t max_delete_spis = 1024;
};

enum class ParseErrorKind : uint8_t {
  truncated,                     // the data ends inside a header or a field
  bad_length,                    // a length field disagrees with the data
  invalid_major_version,         // header major version is not 2
  invalid_syntax,                // a field has a value the RFC forbids
  unsupported_critical_payload,  // unknown payload with the critical bit set
  too_many,                      // a count exceeds ParseLimits
  too_large,                     // the datagram exceeds ParseLimits::max_message
};

std::string to_string(ParseErrorKind kind);

struct ParseError {
  ParseErrorKind kind = ParseErrorKind::invalid_syntax;
  uint8_t payload_type = 0;  // the payload being parsed (0: the IKE header)
  std::string detail;

  // The notify an IKE responder answers with (RFC 7296 2.21.1 / 3.10.1).
  NotifyType notify() const;
  // "INVALID_SYNTAX in SA: transform length 3 < 8" style, for logs.
  std::string describe() const;
};

// The 28-byte header alone, for dispatch before a full parse: checks the size,
// the major version and that the length field is at least 28.
Expected<Header, ParseError> parse_header(ByteView datagram);

// Header and unencrypted chain; SK or SKF, if present, must be last and is kept
// opaque. The header's length must equal the datagram's (strip the non-ESP
// marker first).
Expected<Message, ParseError> parse_message(ByteView datagram, const ParseLimits& limits = {});

// A decrypted SK body (or a reassembled RFC 7383 message) starting with `first`.
// SK/SKF inside it is invalid syntax.
Expected<std::vector<Payload>, ParseError> parse_payload_chain(PayloadType first, ByteView data,
                                                               const ParseLimits& limits = {});

}  // namespace traverse::ike
