// Serializes IKEv2 messages and payload chains (RFC 7296 section 3) and the
// header prefixes of SK/SKF payloads (RFC 7383 2.5) that the crypto code
// authenticates. Stateless functions: safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/message.hh"

namespace traverse::ike {

// The whole datagram: next-payload chain, every length and header.length are
// filled in (header.next_payload and header.length are ignored). An SK or SKF
// payload must be last; its next-payload field is its first_inner.
// Returns empty Bytes when a payload body exceeds 65531 bytes or another
// 16-bit length field would overflow (a valid message is never empty).
Bytes build_message(Header header, const std::vector<Payload>& payloads);

// The chain alone (the plaintext inside SK); *first receives the first
// payload's type (none for an empty chain). Empty on overflow, as above.
Bytes serialize_payload_chain(const std::vector<Payload>& payloads, PayloadType* first);

// IKE header (length = 28 + 4 + sk_body_length) + the 4-byte SK header: the
// integrity/AAD prefix; the caller appends IV || ciphertext || ICV.
// Empty when the SK payload length would exceed 65535.
Bytes build_sk_prefix(Header header, PayloadType first_inner, std::size_t sk_body_length);

// As above with unencrypted payloads before SK (RFC 7296 3.14 allows them).
Bytes build_sk_prefix(Header header, const std::vector<Payload>& plain_before,
                      PayloadType first_inner, std::size_t sk_body_length);

// IKE header + the 8-byte SKF header (RFC 7383 2.5). Only fragment 1 carries
// first_inner; the others write 0 there, as the RFC requires.
Bytes build_skf_prefix(Header header, PayloadType first_inner, uint16_t number, uint16_t total,
                       std::size_t body_length);

}  // namespace traverse::ike
