#include "control/ike/message/constants.hh"

namespace traverse::ike {
namespace {

// Unnamed values print as their number, so logs never lose information.
std::string name_or_number(const char* name, unsigned value) {
  return name != nullptr ? std::string(name) : std::to_string(value);
}

const char* name_of(ExchangeType value) {
  switch (value) {
    case ExchangeType::ike_sa_init:
      return "IKE_SA_INIT";
    case ExchangeType::ike_auth:
      return "IKE_AUTH";
    case ExchangeType::create_child_sa:
      return "CREATE_CHILD_SA";
    case ExchangeType::informational:
      return "INFORMATIONAL";
  }
  return nullptr;
}

const char* name_of(PayloadType value) {
  switch (value) {
    case PayloadType::none:
      return "none";
    case PayloadType::sa:
      return "SA";
    case PayloadType::ke:
      return "KE";
    case PayloadType::idi:
      return "IDi";
    case PayloadType::idr:
      return "IDr";
    case PayloadType::cert:
      return "CERT";
    case PayloadType::certreq:
      return "CERTREQ";
    case PayloadType::auth:
      return "AUTH";
    case PayloadType::nonce:
      return "Ni/Nr";
    case PayloadType::notify:
      return "N";
    case PayloadType::delete_:
      return "D";
    case PayloadType::vendor_id:
      return "V";
    case PayloadType::tsi:
      return "TSi";
    case PayloadType::tsr:
      return "TSr";
    case PayloadType::sk:
      return "SK";
    case PayloadType::cp:
      return "CP";
    case PayloadType::eap:
      return "EAP";
    case PayloadType::skf:
      return "SKF";
  }
  return nullptr;
}

const char* name_of(ProtocolId value) {
  switch (value) {
    case ProtocolId::none:
      return "none";
    case ProtocolId::ike:
      return "IKE";
    case ProtocolId::ah:
      return "AH";
    case ProtocolId::esp:
      return "ESP";
  }
  return nullptr;
}

const char* name_of(TransformType value) {
  switch (value) {
    case TransformType::encr:
      return "ENCR";
    case TransformType::prf:
      return "PRF";
    case TransformType::integ:
      return "INTEG";
    case TransformType::dh:
      return "DH";
    case TransformType::esn:
      return "ESN";
  }
  return nullptr;
}

const char* name_of(IdType value) {
  switch (value) {
    case IdType::ipv4_addr:
      return "ID_IPV4_ADDR";
    case IdType::fqdn:
      return "ID_FQDN";
    case IdType::rfc822_addr:
      return "ID_RFC822_ADDR";
    case IdType::ipv6_addr:
      return "ID_IPV6_ADDR";
    case IdType::der_asn1_dn:
      return "ID_DER_ASN1_DN";
    case IdType::der_asn1_gn:
      return "ID_DER_ASN1_GN";
    case IdType::key_id:
      return "ID_KEY_ID";
  }
  return nullptr;
}

const char* name_of(AuthMethod value) {
  switch (value) {
    case AuthMethod::rsa_sig:
      return "RSA signature";
    case AuthMethod::psk:
      return "shared key";
    case AuthMethod::dss:
      return "DSS signature";
    case AuthMethod::ecdsa_256:
      return "ECDSA P-256";
    case AuthMethod::ecdsa_384:
      return "ECDSA P-384";
    case AuthMethod::ecdsa_521:
      return "ECDSA P-521";
    case AuthMethod::digital_signature:
      return "digital signature";
  }
  return nullptr;
}

const char* name_of(CertEncoding value) {
  switch (value) {
    case CertEncoding::pkcs7_x509:
      return "PKCS7 X.509";
    case CertEncoding::pgp:
      return "PGP";
    case CertEncoding::dns_signed_key:
      return "DNS signed key";
    case CertEncoding::x509_signature:
      return "X.509 signature";
    case CertEncoding::kerberos_token:
      return "Kerberos token";
    case CertEncoding::crl:
      return "CRL";
    case CertEncoding::arl:
      return "ARL";
    case CertEncoding::spki:
      return "SPKI";
    case CertEncoding::x509_attribute:
      return "X.509 attribute";
    case CertEncoding::raw_rsa_key:
      return "raw RSA key";
    case CertEncoding::hash_and_url_x509:
      return "hash and URL X.509";
    case CertEncoding::hash_and_url_x509_bundle:
      return "hash and URL X.509 bundle";
  }
  return nullptr;
}

const char* name_of(NotifyType value) {
  switch (value) {
    case NotifyType::unsupported_critical_payload:
      return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::invalid_ike_spi:
      return "INVALID_IKE_SPI";
    case NotifyType::invalid_major_version:
      return "INVALID_MAJOR_VERSION";
    case NotifyType::invalid_syntax:
      return "INVALID_SYNTAX";
    case NotifyType::invalid_message_id:
      return "INVALID_MESSAGE_ID";
    case NotifyType::invalid_spi:
      return "INVALID_SPI";
    case NotifyType::no_proposal_chosen:
      return "NO_PROPOSAL_CHOSEN";
    case NotifyType::invalid_ke_payload:
      return "INVALID_KE_PAYLOAD";
    case NotifyType::authentication_failed:
      return "AUTHENTICATION_FAILED";
    case NotifyType::single_pair_required:
      return "SINGLE_PAIR_REQUIRED";
    case NotifyType::no_additional_sas:
      return "NO_ADDITIONAL_SAS";
    case NotifyType::internal_address_failure:
      return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::failed_cp_required:
      return "FAILED_CP_REQUIRED";
    case NotifyType::ts_unacceptable:
      return "TS_UNACCEPTABLE";
    case NotifyType::invalid_selectors:
      return "INVALID_SELECTORS";
    case NotifyType::temporary_failure:
      return "TEMPORARY_FAILURE";
    case NotifyType::child_sa_not_found:
      return "CHILD_SA_NOT_FOUND";
    case NotifyType::initial_contact:
      return "INITIAL_CONTACT";
    case NotifyType::set_window_size:
      return "SET_WINDOW_SIZE";
    case NotifyType::additional_ts_possible:
      return "ADDITIONAL_TS_POSSIBLE";
    case NotifyType::ipcomp_supported:
      return "IPCOMP_SUPPORTED";
    case NotifyType::nat_detection_source_ip:
      return "NAT_DETECTION_SOURCE_IP";
    case NotifyType::nat_detection_destination_ip:
      return "NAT_DETECTION_DESTINATION_IP";
    case NotifyType::cookie:
      return "COOKIE";
    case NotifyType::use_transport_mode:
      return "USE_TRANSPORT_MODE";
    case NotifyType::http_cert_lookup_supported:
      return "HTTP_CERT_LOOKUP_SUPPORTED";
    case NotifyType::rekey_sa:
      return "REKEY_SA";
    case NotifyType::esp_tfc_padding_not_supported:
      return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case NotifyType::non_first_fragments_also:
      return "NON_FIRST_FRAGMENTS_ALSO";
    case NotifyType::mobike_supported:
      return "MOBIKE_SUPPORTED";
    case NotifyType::multiple_auth_supported:
      return "MULTIPLE_AUTH_SUPPORTED";
    case NotifyType::another_auth_follows:
      return "ANOTHER_AUTH_FOLLOWS";
    case NotifyType::redirect_supported:
      return "REDIRECT_SUPPORTED";
    case NotifyType::redirect:
      return "REDIRECT";
    case NotifyType::childless_ikev2_supported:
      return "CHILDLESS_IKEV2_SUPPORTED";
    case NotifyType::ikev2_fragmentation_supported:
      return "IKEV2_FRAGMENTATION_SUPPORTED";
    case NotifyType::signature_hash_algorithms:
      return "SIGNATURE_HASH_ALGORITHMS";
    case NotifyType::intermediate_exchange_supported:
      return "INTERMEDIATE_EXCHANGE_SUPPORTED";
  }
  return nullptr;
}

const char* name_of(ConfigType value) {
  switch (value) {
    case ConfigType::request:
      return "CFG_REQUEST";
    case ConfigType::reply:
      return "CFG_REPLY";
    case ConfigType::set:
      return "CFG_SET";
    case ConfigType::ack:
      return "CFG_ACK";
  }
  return nullptr;
}

const char* name_of(ConfigAttributeType value) {
  switch (value) {
    case ConfigAttributeType::internal_ip4_address:
      return "INTERNAL_IP4_ADDRESS";
    case ConfigAttributeType::internal_ip4_netmask:
      return "INTERNAL_IP4_NETMASK";
    case ConfigAttributeType::internal_ip4_dns:
      return "INTERNAL_IP4_DNS";
    case ConfigAttributeType::internal_ip4_nbns:
      return "INTERNAL_IP4_NBNS";
    case ConfigAttributeType::internal_address_expiry:
      return "INTERNAL_ADDRESS_EXPIRY";
    case ConfigAttributeType::internal_ip4_dhcp:
      return "INTERNAL_IP4_DHCP";
    case ConfigAttributeType::application_version:
      return "APPLICATION_VERSION";
    case ConfigAttributeType::internal_ip6_address:
      return "INTERNAL_IP6_ADDRESS";
    case ConfigAttributeType::internal_ip6_dns:
      return "INTERNAL_IP6_DNS";
    case ConfigAttributeType::internal_ip6_dhcp:
      return "INTERNAL_IP6_DHCP";
    case ConfigAttributeType::internal_ip4_subnet:
      return "INTERNAL_IP4_SUBNET";
    case ConfigAttributeType::supported_attributes:
      return "SUPPORTED_ATTRIBUTES";
    case ConfigAttributeType::internal_ip6_subnet:
      return "INTERNAL_IP6_SUBNET";
    case ConfigAttributeType::internal_dns_domain:
      return "INTERNAL_DNS_DOMAIN";
    case ConfigAttributeType::internal_dnssec_ta:
      return "INTERNAL_DNSSEC_TA";
  }
  return nullptr;
}

const char* name_of(TsType value) {
  switch (value) {
    case TsType::ipv4_addr_range:
      return "TS_IPV4_ADDR_RANGE";
    case TsType::ipv6_addr_range:
      return "TS_IPV6_ADDR_RANGE";
  }
  return nullptr;
}

template <typename Enum>
std::string describe(Enum value) {
  return name_or_number(name_of(value), static_cast<unsigned>(value));
}

}  // namespace

std::string to_string(ExchangeType value) {
  return describe(value);
}
std::string to_string(PayloadType value) {
  return describe(value);
}
std::string to_string(ProtocolId value) {
  return describe(value);
}
std::string to_string(TransformType value) {
  return describe(value);
}
std::string to_string(IdType value) {
  return describe(value);
}
std::string to_string(AuthMethod value) {
  return describe(value);
}
std::string to_string(CertEncoding value) {
  return describe(value);
}
std::string to_string(NotifyType value) {
  return describe(value);
}
std::string to_string(ConfigType value) {
  return describe(value);
}
std::string to_string(ConfigAttributeType value) {
  return describe(value);
}
std::string to_string(TsType value) {
  return describe(value);
}

bool is_known_payload_type(uint8_t type) {
  return (type >= static_cast<uint8_t>(PayloadType::sa) &&
          type <= static_cast<uint8_t>(PayloadType::eap)) ||
         type == static_cast<uint8_t>(PayloadType::skf);
}

}  // namespace traverse::ike
