// IKEv2 identities (RFC 7296 3.5): parsed from configuration text, printed for
// logs, compared. Plain values; every function here is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::ike {

// ID Type values (IANA "IKEv2 Identification Payload ID Types").
namespace id_type {
inline constexpr uint8_t ipv4_addr = 1;
inline constexpr uint8_t fqdn = 2;
inline constexpr uint8_t rfc822_addr = 3;
inline constexpr uint8_t ipv6_addr = 5;
inline constexpr uint8_t der_asn1_dn = 9;
inline constexpr uint8_t der_asn1_gn = 10;
inline constexpr uint8_t key_id = 11;
}  // namespace id_type

struct Identity {
  uint8_t type = 0;
  Bytes data;  // the ID payload's identification data, as on the wire

  // DNs compare by their canonical form (case and whitespace folded, string
  // types unified, as X509_NAME_cmp does), so a DN typed in the config equals
  // the same DN as a CA encoded it; every other type compares byte for byte.
  friend bool operator==(const Identity& a, const Identity& b);
};

// Config text to an identity. Explicit prefixes: "fqdn:", "email:" (or
// "rfc822:"), "ip:" (or "ipv4:", "ipv6:"), "dn:" (or "asn1dn:"), "keyid:hex".
// Without a prefix: an IP address, user@host is an email address, text with
// '=' is a DN, anything else an FQDN.
Expected<Identity, std::string> parse_identity(std::string_view text);

// Readable form for logs and the control socket: FQDN and email as text, IP
// addresses in their usual notation, a DN as "C=CH, O=Traverse, CN=gw",
// "keyid:<hex>" for key ids. Non-printable octets are escaped as \xNN.
std::string to_string(const Identity& id);

// A DN in strongSwan's syntax ("C=CH, O=Traverse, CN=gw"; RDNs separated by
// ',' or '/', values may be quoted or use '\' escapes) as DER X509_NAME.
Expected<Bytes, std::string> encode_dn(std::string_view text);

// DER X509_NAME to one-line text; an error when the DER does not parse.
Expected<std::string, std::string> dn_to_string(ByteView der);

// One attribute of a DN, in order: its OpenSSL NID (NID_commonName, ...) and UTF-8 value.
struct DnAttribute {
  int nid = 0;
  std::string value;
};
Expected<std::vector<DnAttribute>, std::string> dn_attributes(ByteView der);

}  // namespace traverse::ike
