#include "control/gateway/algorithm_names.hh"

#include <algorithm>
#include <array>
#include <cctype>

namespace traverse::gateway {
namespace {

// IANA "IKEv2 Transform Type N" registries.
constexpr uint16_t kEncrAesCbc = 12;
constexpr uint16_t kEncrAesGcm16 = 20;
constexpr uint16_t kEncrChacha20Poly1305 = 28;
constexpr uint16_t kIntegSha256 = 12;  // AUTH_HMAC_SHA2_256_128
constexpr uint16_t kIntegSha384 = 13;  // AUTH_HMAC_SHA2_384_192
constexpr uint16_t kIntegSha512 = 14;  // AUTH_HMAC_SHA2_512_256
constexpr uint16_t kPrfSha256 = 5;
constexpr uint16_t kPrfSha384 = 6;
constexpr uint16_t kPrfSha512 = 7;

struct NamedTransform {
  std::string_view name;
  AlgorithmTransform transform;
  bool aead;
};

constexpr std::array<NamedTransform, 20> kNames = {{
    {"aes128", {kTransformEncr, kEncrAesCbc, 128}, false},
    {"aes256", {kTransformEncr, kEncrAesCbc, 256}, false},
    {"aes128gcm16", {kTransformEncr, kEncrAesGcm16, 128}, true},
    {"aes256gcm16", {kTransformEncr, kEncrAesGcm16, 256}, true},
    {"chacha20poly1305", {kTransformEncr, kEncrChacha20Poly1305, 256}, true},
    {"sha256", {kTransformInteg, kIntegSha256, 0}, false},
    {"sha384", {kTransformInteg, kIntegSha384, 0}, false},
    {"sha512", {kTransformInteg, kIntegSha512, 0}, false},
    {"prfsha256", {kTransformPrf, kPrfSha256, 0}, false},
    {"prfsha384", {kTransformPrf, kPrfSha384, 0}, false},
    {"prfsha512", {kTransformPrf, kPrfSha512, 0}, false},
    {"modp2048", {kTransformDh, 14, 0}, false},
    {"modp3072", {kTransformDh, 15, 0}, false},
    {"ecp256", {kTransformDh, 19, 0}, false},
    {"ecp384", {kTransformDh, 20, 0}, false},
    {"ecp521", {kTransformDh, 21, 0}, false},
    {"x25519", {kTransformDh, 31, 0}, false},
    {"curve25519", {kTransformDh, 31, 0}, false},
    {"esn", {kTransformEsn, 1, 0}, false},
    {"noesn", {kTransformEsn, 0, 0}, false},
}};

const NamedTransform* find_name(std::string_view token) {
  for (const NamedTransform& named : kNames) {
    if (named.name == token) {
      return &named;
    }
  }
  return nullptr;
}

// The name printed for a transform: the first table entry that matches.
std::string_view name_of(const AlgorithmTransform& transform) {
  for (const NamedTransform& named : kNames) {
    if (named.transform == transform) {
      return named.name;
    }
  }
  return {};
}

bool is_aead(const AlgorithmTransform& transform) {
  return transform.type == kTransformEncr &&
         (transform.id == kEncrAesGcm16 || transform.id == kEncrChacha20Poly1305);
}

// The PRF an integrity algorithm implies (same hash), for non-AEAD IKE.
uint16_t prf_for_integrity(uint16_t integ) {
  switch (integ) {
    case kIntegSha384:
      return kPrfSha384;
    case kIntegSha512:
      return kPrfSha512;
    default:
      return kPrfSha256;
  }
}

void add_unique(AlgorithmProposal* proposal, const AlgorithmTransform& transform) {
  if (std::find(proposal->transforms.begin(), proposal->transforms.end(), transform) ==
      proposal->transforms.end()) {
    proposal->transforms.push_back(transform);
  }
}

// Splits on '-', looks every token up and checks the shape both kinds share.
Expected<AlgorithmProposal, std::string> tokenize(std::string_view text, std::string_view kind) {
  const std::string quoted = std::string(kind) + " proposal '" + std::string(text) + "'";
  if (text.empty()) {
    return unexpected(std::string(kind) + " proposal is empty");
  }
  if (text.size() > 256) {
    return unexpected(std::string(kind) + " proposal is too long (at most 256 characters)");
  }
  AlgorithmProposal proposal;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('-', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string token(text.substr(start, end - start));
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (token.empty()) {
      return unexpected(quoted + ": empty algorithm name (stray '-')");
    }
    const NamedTransform* named = find_name(token);
    if (named == nullptr) {
      return unexpected(quoted + ": unknown algorithm '" + token +
                        "' (known: aes128, aes256, aes128gcm16, aes256gcm16, chacha20poly1305, "
                        "sha256, sha384, sha512, prfsha256, prfsha384, prfsha512, modp2048, "
                        "modp3072, ecp256, ecp384, ecp521, x25519, curve25519, esn, noesn)");
    }
    if (std::find(proposal.transforms.begin(), proposal.transforms.end(), named->transform) !=
        proposal.transforms.end()) {
      return unexpected(quoted + ": '" + token + "' is listed twice");
    }
    proposal.transforms.push_back(named->transform);
    start = end + 1;
  }
  // Stable sort keeps the written order within a type (the preference order).
  std::stable_sort(
      proposal.transforms.begin(), proposal.transforms.end(),
      [](const AlgorithmTransform& a, const AlgorithmTransform& b) { return a.type < b.type; });
  const auto encr = proposal.of_type(kTransformEncr);
  if (encr.empty()) {
    return unexpected(quoted + ": no encryption algorithm (e.g. aes128gcm16 or aes256)");
  }
  const auto aead_count = std::count_if(encr.begin(), encr.end(), is_aead);
  if (aead_count != 0 && aead_count != static_cast<long>(encr.size())) {
    // RFC 5282 section 8: AEAD and non-AEAD ciphers go in separate proposals.
    return unexpected(quoted + ": AEAD and non-AEAD ciphers cannot share a proposal");
  }
  const bool aead = aead_count != 0;
  const auto integ = proposal.of_type(kTransformInteg);
  if (aead && !integ.empty()) {
    return unexpected(quoted + ": an AEAD cipher takes no integrity algorithm");
  }
  if (!aead && integ.empty()) {
    return unexpected(quoted + ": no integrity algorithm (e.g. sha256)");
  }
  return proposal;
}

}  // namespace

bool AlgorithmProposal::aead() const {
  return std::any_of(transforms.begin(), transforms.end(), is_aead);
}

std::vector<AlgorithmTransform> AlgorithmProposal::of_type(uint8_t type) const {
  std::vector<AlgorithmTransform> out;
  std::copy_if(transforms.begin(), transforms.end(), std::back_inserter(out),
               [type](const AlgorithmTransform& t) { return t.type == type; });
  return out;
}

Expected<AlgorithmProposal, std::string> parse_ike_proposal(std::string_view text) {
  auto parsed = tokenize(text, "IKE");
  if (!parsed) {
    return parsed;
  }
  AlgorithmProposal proposal = std::move(*parsed);
  const std::string quoted = "IKE proposal '" + std::string(text) + "'";
  if (!proposal.of_type(kTransformEsn).empty()) {
    return unexpected(quoted + ": esn/noesn apply to ESP proposals only");
  }
  if (proposal.of_type(kTransformPrf).empty()) {
    if (proposal.aead()) {
      return unexpected(quoted + ": an AEAD proposal needs an explicit PRF (e.g. prfsha256)");
    }
    AlgorithmProposal with_prf;
    for (const AlgorithmTransform& t : proposal.transforms) {
      if (t.type == kTransformInteg) {
        add_unique(&with_prf, {kTransformPrf, prf_for_integrity(t.id), 0});
      }
    }
    proposal.transforms.insert(proposal.transforms.end(), with_prf.transforms.begin(),
                               with_prf.transforms.end());
    std::stable_sort(
        proposal.transforms.begin(), proposal.transforms.end(),
        [](const AlgorithmTransform& a, const AlgorithmTransform& b) { return a.type < b.type; });
  }
  if (proposal.of_type(kTransformDh).empty()) {
    return unexpected(quoted + ": no DH group (e.g. x25519, ecp256 or modp2048)");
  }
  return proposal;
}

Expected<AlgorithmProposal, std::string> parse_esp_proposal(std::string_view text) {
  auto parsed = tokenize(text, "ESP");
  if (!parsed) {
    return parsed;
  }
  AlgorithmProposal proposal = std::move(*parsed);
  const std::string quoted = "ESP proposal '" + std::string(text) + "'";
  if (!proposal.of_type(kTransformPrf).empty()) {
    return unexpected(quoted + ": a PRF applies to IKE proposals only");
  }
  // The dataplane implements AES-GCM-16, ChaCha20-Poly1305 and AES-CBC with
  // HMAC-SHA-256-128 only.
  for (const AlgorithmTransform& t : proposal.transforms) {
    if (t.type == kTransformInteg && t.id != kIntegSha256) {
      return unexpected(quoted + ": integrity '" + std::string(name_of(t)) +
                        "' is not implemented by the dataplane (ESP supports aes128gcm16, "
                        "aes256gcm16, aes128-sha256, aes256-sha256, chacha20poly1305)");
    }
  }
  if (proposal.of_type(kTransformEsn).empty()) {
    proposal.transforms.push_back({kTransformEsn, 0, 0});
  }
  return proposal;
}

std::string proposal_to_string(const AlgorithmProposal& proposal) {
  std::string out;
  for (const AlgorithmTransform& t : proposal.transforms) {
    std::string_view name = name_of(t);
    std::string fallback;
    if (name.empty()) {
      fallback = "type" + std::to_string(t.type) + "id" + std::to_string(t.id);
      if (t.key_bits != 0) {
        fallback += "k" + std::to_string(t.key_bits);
      }
      name = fallback;
    }
    if (!out.empty()) {
      out += '-';
    }
    out += name;
  }
  return out;
}

}  // namespace traverse::gateway
