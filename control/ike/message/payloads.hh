// One plain struct per IKEv2 payload body (RFC 7296 section 3, RFC 7383 2.5)
// and Payload, which holds any of them with its type and critical bit.
// Plain values: no shared state, safe to use from any thread.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "control/ike/bytes.hh"
#include "control/ike/message/constants.hh"

namespace traverse::ike {

struct Transform {
  TransformType type{};
  uint16_t id = 0;
  uint16_t key_length = 0;  // bits; 0 means the attribute is absent
  // Attributes other than Key Length, verbatim (TV/TLV encoded), for round trips.
  Bytes other_attributes;
  bool operator==(const Transform&) const = default;
};

struct Proposal {
  uint8_t number = 1;
  ProtocolId protocol{};
  Bytes spi;  // empty in IKE_SA_INIT, 8 bytes for IKE rekey, 4 for ESP/AH
  std::vector<Transform> transforms;
  bool operator==(const Proposal&) const = default;
};

struct SaPayload {
  std::vector<Proposal> proposals;
  bool operator==(const SaPayload&) const = default;
};

struct KePayload {
  uint16_t group = 0;
  Bytes data;
  bool operator==(const KePayload&) const = default;
};

// IDi and IDr: Payload::type tells them apart.
struct IdPayload {
  IdType type{};
  Bytes data;
  bool operator==(const IdPayload&) const = default;
};

struct CertPayload {
  CertEncoding encoding{};
  Bytes data;
  bool operator==(const CertPayload&) const = default;
};

struct CertReqPayload {
  CertEncoding encoding{};
  Bytes data;  // concatenated SHA-1 hashes of trusted CA public keys for X.509
  bool operator==(const CertReqPayload&) const = default;
};

struct AuthPayload {
  AuthMethod method{};
  Bytes data;
  bool operator==(const AuthPayload&) const = default;
};

struct NoncePayload {
  Bytes data;  // 16..256 bytes (RFC 7296 3.9)
  bool operator==(const NoncePayload&) const = default;
};

struct NotifyPayload {
  ProtocolId protocol{};
  Bytes spi;
  NotifyType type{};  // any uint16 value survives
  Bytes data;
  bool operator==(const NotifyPayload&) const = default;
};

struct DeletePayload {
  ProtocolId protocol{};
  uint8_t spi_size = 0;  // 0 for IKE (no SPIs), 4 for ESP/AH
  std::vector<Bytes> spis;
  bool operator==(const DeletePayload&) const = default;
};

struct VendorIdPayload {
  Bytes data;
  bool operator==(const VendorIdPayload&) const = default;
};

struct TrafficSelector {
  TsType type = TsType::ipv4_addr_range;
  uint8_t ip_protocol = 0;  // 0 = any
  uint16_t start_port = 0;
  uint16_t end_port = 65535;
  // 4 bytes each for IPv4, 16 for IPv6. A selector of an unknown type keeps
  // everything after the ports in start_address and leaves end_address empty.
  Bytes start_address;
  Bytes end_address;
  bool operator==(const TrafficSelector&) const = default;
};

// TSi and TSr: Payload::type tells them apart.
struct TsPayload {
  std::vector<TrafficSelector> selectors;
  bool operator==(const TsPayload&) const = default;
};

struct ConfigAttr {
  ConfigAttributeType type{};  // 15 bits; the reserved top bit is dropped
  Bytes value;
  bool operator==(const ConfigAttr&) const = default;
};

struct CpPayload {
  ConfigType config_type{};
  std::vector<ConfigAttr> attributes;
  bool operator==(const CpPayload&) const = default;
};

struct EapPayload {
  Bytes data;  // the whole EAP message (RFC 3748), its own length checked
  bool operator==(const EapPayload&) const = default;
};

// SK: the generic header's next-payload field names the first inner payload.
struct EncryptedPayload {
  PayloadType first_inner{};
  Bytes body;  // IV || ciphertext || ICV, opaque here
  bool operator==(const EncryptedPayload&) const = default;
};

// SKF (RFC 7383 2.5): only fragment 1 carries the real first inner type; the
// builder writes first_inner as given, so set it to none for fragments 2..n
// (build_skf_prefix does that by itself).
struct EncryptedFragment {
  uint16_t number = 1;
  uint16_t total = 1;
  PayloadType first_inner{};
  Bytes body;
  bool operator==(const EncryptedFragment&) const = default;
};

// A non-critical payload we do not understand, kept so it can be logged.
struct UnknownPayload {
  uint8_t type = 0;
  bool critical = false;
  Bytes body;
  bool operator==(const UnknownPayload&) const = default;
};

using PayloadBody =
    std::variant<SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload,
                 NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload, TsPayload, CpPayload,
                 EapPayload, EncryptedPayload, EncryptedFragment, UnknownPayload>;

// The builder writes `type` into the chain and encodes `body` by its kind; the
// two must agree (make_payload keeps them in step).
struct Payload {
  PayloadType type{};
  bool critical = false;
  PayloadBody body;

  template <typename T>
  const T* get() const {
    return std::get_if<T>(&body);
  }
  template <typename T>
  T* get() {
    return std::get_if<T>(&body);
  }
  bool operator==(const Payload&) const = default;
};

// The payload type a body implies; IdPayload and TsPayload need the caller to
// choose (IDi/IDr, TSi/TSr) and get the initiator's type here.
PayloadType implied_type(const PayloadBody& body);

inline Payload make_payload(PayloadBody body) {
  const PayloadType type = implied_type(body);
  return Payload{type, false, std::move(body)};
}
inline Payload make_payload(PayloadType type, PayloadBody body) {
  return Payload{type, false, std::move(body)};
}

// IDx' of RFC 7296 2.15: ID type, three reserved zero bytes, data. Signed in AUTH.
Bytes id_payload_body(const IdPayload& id);

}  // namespace traverse::ike
