// Signature algorithms as RFC 7427 carries them: the DER AlgorithmIdentifier
// in an AUTH payload of method 14, encoded and parsed strictly (PKCS#1 v1.5,
// RSASSA-PSS with parameters, ECDSA; RFC 4055, RFC 5758). Pure functions,
// thread-safe.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <string>

#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// IANA "IKEv2 Hash Algorithms" (RFC 7427 section 7), as in SIGNATURE_HASH_ALGORITHMS.
enum class HashAlgorithm : uint16_t { sha1 = 1, sha256 = 2, sha384 = 3, sha512 = 4 };

enum class SignatureScheme { rsa_pkcs1, rsa_pss, ecdsa };

struct SignatureAlgorithm {
  SignatureScheme scheme = SignatureScheme::rsa_pkcs1;
  HashAlgorithm hash = HashAlgorithm::sha256;
  // RSASSA-PSS only: the MGF1 hash and the salt length (RFC 4055 defaults:
  // SHA-1 and 20 when the parameters leave them out).
  HashAlgorithm mgf1_hash = HashAlgorithm::sha256;
  int salt_length = 32;

  friend bool operator==(const SignatureAlgorithm&, const SignatureAlgorithm&) = default;
};

// RSASSA-PSS as we sign it: MGF1 with the same hash, salt as long as the hash.
SignatureAlgorithm rsa_pss_algorithm(HashAlgorithm hash);

// DER AlgorithmIdentifier. PKCS#1 v1.5 carries a NULL parameter, ECDSA none
// (RFC 5758 3.2), PSS explicit parameters with defaults left out (DER).
Bytes encode_algorithm_identifier(const SignatureAlgorithm& algorithm);

// Parses exactly `der` (no trailing bytes, DER only: the encoding must be the
// one we would produce for the same value) into a known algorithm.
Expected<SignatureAlgorithm, std::string> parse_algorithm_identifier(ByteView der);

const EVP_MD* hash_md(HashAlgorithm hash);
std::size_t hash_size(HashAlgorithm hash);
std::string to_string(HashAlgorithm hash);
std::string to_string(const SignatureAlgorithm& algorithm);  // "ecdsa-with-sha384", ...

}  // namespace traverse::ike
