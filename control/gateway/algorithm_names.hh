// strongSwan-style proposal strings ("aes128gcm16-prfsha256-x25519") parsed
// into IANA IKEv2 transform numbers (RFC 7296 section 3.3.2), and back into
// text for logs and traversectl. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/result.hh"

namespace traverse::gateway {

// IKEv2 transform types (RFC 7296 section 3.3.2).
enum TransformType : uint8_t {
  kTransformEncr = 1,
  kTransformPrf = 2,
  kTransformInteg = 3,
  kTransformDh = 4,
  kTransformEsn = 5,
};

struct AlgorithmTransform {
  uint8_t type = 0;       // TransformType
  uint16_t id = 0;        // IANA transform ID
  uint16_t key_bits = 0;  // Key Length attribute; 0 when the transform has none
  bool operator==(const AlgorithmTransform&) const = default;
};

// One proposal; several transforms of one type are alternatives the peer picks
// from. Transforms are kept ordered by type, then as written.
struct AlgorithmProposal {
  std::vector<AlgorithmTransform> transforms;

  // AEAD ciphers (AES-GCM, ChaCha20-Poly1305) carry no integrity transform.
  bool aead() const;
  std::vector<AlgorithmTransform> of_type(uint8_t type) const;
  bool operator==(const AlgorithmProposal&) const = default;
};

// An IKE proposal needs encryption, a PRF (explicit, or implied by the
// integrity algorithm), integrity unless AEAD, and at least one DH group.
Expected<AlgorithmProposal, std::string> parse_ike_proposal(std::string_view text);

// An ESP proposal needs encryption and integrity unless AEAD, limited to what
// the dataplane implements; a DH group means PFS on rekeys; ESN defaults to
// "noesn".
Expected<AlgorithmProposal, std::string> parse_esp_proposal(std::string_view text);

// The proposal in the syntax the parsers accept (every transform explicit).
std::string proposal_to_string(const AlgorithmProposal& proposal);

}  // namespace traverse::gateway
