// IANA numbers of IKEv2 (RFC 7296 section 3 and the IKEv2 parameters registry)
// as enums with a fixed underlying type, so values we do not name still survive
// a parse/build round trip. Pure data and pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace traverse::ike {

enum class ExchangeType : uint8_t {
  ike_sa_init = 34,
  ike_auth = 35,
  create_child_sa = 36,
  informational = 37,
};

enum class PayloadType : uint8_t {
  none = 0,
  sa = 33,
  ke = 34,
  idi = 35,
  idr = 36,
  cert = 37,
  certreq = 38,
  auth = 39,
  nonce = 40,
  notify = 41,
  delete_ = 42,
  vendor_id = 43,
  tsi = 44,
  tsr = 45,
  sk = 46,
  cp = 47,
  eap = 48,
  skf = 53,  // RFC 7383
};

// IKE header flags (RFC 7296 3.1).
namespace header_flags {
inline constexpr uint8_t initiator = 0x08;
inline constexpr uint8_t version = 0x10;
inline constexpr uint8_t response = 0x20;
}  // namespace header_flags

enum class ProtocolId : uint8_t { none = 0, ike = 1, ah = 2, esp = 3 };

enum class TransformType : uint8_t { encr = 1, prf = 2, integ = 3, dh = 4, esn = 5 };

// The only transform attribute IKEv2 defines (RFC 7296 3.3.5), a TV attribute.
inline constexpr uint16_t transform_attribute_key_length = 14;

// Transform IDs Traverse negotiates; others pass through as plain numbers.
namespace transform_id {
inline constexpr uint16_t encr_aes_cbc = 12;
inline constexpr uint16_t encr_aes_gcm_16 = 20;
inline constexpr uint16_t encr_chacha20_poly1305 = 28;
inline constexpr uint16_t prf_hmac_sha2_256 = 5;
inline constexpr uint16_t prf_hmac_sha2_384 = 6;
inline constexpr uint16_t prf_hmac_sha2_512 = 7;
inline constexpr uint16_t auth_hmac_sha2_256_128 = 12;
inline constexpr uint16_t auth_hmac_sha2_384_192 = 13;
inline constexpr uint16_t auth_hmac_sha2_512_256 = 14;
inline constexpr uint16_t modp_2048 = 14;
inline constexpr uint16_t modp_3072 = 15;
inline constexpr uint16_t ecp_256 = 19;
inline constexpr uint16_t ecp_384 = 20;
inline constexpr uint16_t ecp_521 = 21;
inline constexpr uint16_t curve25519 = 31;
inline constexpr uint16_t esn_none = 0;
inline constexpr uint16_t esn_enabled = 1;
}  // namespace transform_id

enum class IdType : uint8_t {
  ipv4_addr = 1,
  fqdn = 2,
  rfc822_addr = 3,
  ipv6_addr = 5,
  der_asn1_dn = 9,
  der_asn1_gn = 10,
  key_id = 11,
};

enum class AuthMethod : uint8_t {
  rsa_sig = 1,
  psk = 2,
  dss = 3,
  ecdsa_256 = 9,
  ecdsa_384 = 10,
  ecdsa_521 = 11,
  digital_signature = 14,  // RFC 7427
};

enum class CertEncoding : uint8_t {
  pkcs7_x509 = 1,
  pgp = 2,
  dns_signed_key = 3,
  x509_signature = 4,
  kerberos_token = 6,
  crl = 7,
  arl = 8,
  spki = 9,
  x509_attribute = 10,
  raw_rsa_key = 11,
  hash_and_url_x509 = 12,
  hash_and_url_x509_bundle = 13,
};

enum class NotifyType : uint16_t {
  // Errors (0..16383).
  unsupported_critical_payload = 1,
  invalid_ike_spi = 4,
  invalid_major_version = 5,
  invalid_syntax = 7,
  invalid_message_id = 9,
  invalid_spi = 11,
  no_proposal_chosen = 14,
  invalid_ke_payload = 17,
  authentication_failed = 24,
  single_pair_required = 34,
  no_additional_sas = 35,
  internal_address_failure = 36,
  failed_cp_required = 37,
  ts_unacceptable = 38,
  invalid_selectors = 39,
  temporary_failure = 43,
  child_sa_not_found = 44,
  // Status (16384..).
  initial_contact = 16384,
  set_window_size = 16385,
  additional_ts_possible = 16386,
  ipcomp_supported = 16387,
  nat_detection_source_ip = 16388,
  nat_detection_destination_ip = 16389,
  cookie = 16390,
  use_transport_mode = 16391,
  http_cert_lookup_supported = 16392,
  rekey_sa = 16393,
  esp_tfc_padding_not_supported = 16394,
  non_first_fragments_also = 16395,
  mobike_supported = 16396,
  multiple_auth_supported = 16404,
  another_auth_follows = 16405,
  redirect_supported = 16406,
  redirect = 16407,
  childless_ikev2_supported = 16418,  // RFC 6023 (IANA: 16418, not 16438)
  ikev2_fragmentation_supported = 16430,
  signature_hash_algorithms = 16431,
  intermediate_exchange_supported = 16438,  // RFC 9242
};

inline bool is_error(NotifyType type) {
  return static_cast<uint16_t>(type) < 16384;
}

enum class ConfigType : uint8_t { request = 1, reply = 2, set = 3, ack = 4 };

enum class ConfigAttributeType : uint16_t {
  internal_ip4_address = 1,
  internal_ip4_netmask = 2,
  internal_ip4_dns = 3,
  internal_ip4_nbns = 4,
  internal_address_expiry = 5,
  internal_ip4_dhcp = 6,
  application_version = 7,
  internal_ip6_address = 8,
  internal_ip6_dns = 10,
  internal_ip6_dhcp = 12,
  internal_ip4_subnet = 13,
  supported_attributes = 14,
  internal_ip6_subnet = 15,
  internal_dns_domain = 25,  // RFC 8598
  internal_dnssec_ta = 26,   // RFC 8598
};

enum class TsType : uint8_t { ipv4_addr_range = 7, ipv6_addr_range = 8 };

// Names for logs; an unnamed value prints as its number.
std::string to_string(ExchangeType value);
std::string to_string(PayloadType value);
std::string to_string(ProtocolId value);
std::string to_string(TransformType value);
std::string to_string(IdType value);
std::string to_string(AuthMethod value);
std::string to_string(CertEncoding value);
std::string to_string(NotifyType value);
std::string to_string(ConfigType value);
std::string to_string(ConfigAttributeType value);
std::string to_string(TsType value);

// True for payload types this library decodes; others are unknown payloads.
bool is_known_payload_type(uint8_t type);

}  // namespace traverse::ike
