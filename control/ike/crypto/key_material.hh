// IKEv2 key derivation: SKEYSEED and the seven IKE SA keys (RFC 7296 2.14),
// IKE SA rekeying (2.18) and Child SA KEYMAT (2.17). Pure functions of their
// arguments: safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "control/ike/bytes.hh"
#include "control/ike/crypto/prf.hh"
#include "control/ike/crypto/transform_ids.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// Octets each negotiated transform takes from prf+.
struct IkeKeyLengths {
  std::size_t encr = 0;   // cipher key, including the 4-octet salt for GCM/ChaCha20
  std::size_t integ = 0;  // 0 for AEAD ciphers
  std::size_t prf = 0;    // = the PRF's output size (SK_d, SK_pi, SK_pr)
};

// Key octets for an encryption transform (salt included for AEAD); key_bits is
// the Key Length attribute (0 where the transform has none, as ChaCha20).
// nullopt for an unknown transform or a key length it does not take.
std::optional<std::size_t> encr_key_length(uint16_t encr_id, uint16_t key_bits);
// Key octets for an integrity transform; 0 for NONE; nullopt when unknown.
std::optional<std::size_t> integ_key_length(uint16_t integ_id);
// True for the combined-mode ciphers, which must come with integrity NONE.
bool is_aead(uint16_t encr_id);

// All three at once; nullopt for an unknown or inconsistent combination (AEAD
// with an integrity transform, or a plain cipher without one).
std::optional<IkeKeyLengths> ike_key_lengths(uint16_t encr_id, uint16_t key_bits, uint16_t integ_id,
                                             uint16_t prf_id);

struct IkeKeys {
  Secret d, ai, ar, ei, er, pi, pr;
};

// SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi
// | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). SPIs in host order; they
// are written big-endian as on the wire.
Expected<IkeKeys, std::string> derive_ike_keys(const Prf& prf, ByteView ni, ByteView nr,
                                               ByteView shared_secret, uint64_t spi_i,
                                               uint64_t spi_r, IkeKeyLengths lengths);

// RFC 7296 2.18: SKEYSEED = prf_old(SK_d(old), g^ir(new) | Ni | Nr) with the
// old IKE SA's PRF, then the seven keys with the new SA's PRF, SPIs and nonces.
Expected<IkeKeys, std::string> derive_rekeyed_ike_keys(const Prf& old_prf, ByteView old_sk_d,
                                                       const Prf& new_prf, ByteView shared_secret,
                                                       ByteView ni, ByteView nr, uint64_t spi_i,
                                                       uint64_t spi_r, IkeKeyLengths lengths);

// The SKEYSEED alone, for tests and for logging-free diagnostics.
Secret compute_skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView shared_secret);
Secret compute_rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView shared_secret,
                              ByteView ni, ByteView nr);

// "i" keys protect initiator-to-responder traffic.
struct ChildKeys {
  Secret encr_i, integ_i, encr_r, integ_r;
};

// KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17), taken as
// encr_i, integ_i, encr_r, integ_r. shared_secret is empty without PFS.
Expected<ChildKeys, std::string> derive_child_keys(const Prf& prf, ByteView sk_d,
                                                   ByteView shared_secret_or_empty, ByteView ni,
                                                   ByteView nr, std::size_t encr_len,
                                                   std::size_t integ_len);

}  // namespace traverse::ike
