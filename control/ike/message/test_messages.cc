#include "control/ike/message/test_messages.hh"

#include "control/ike/message/builder.hh"

namespace traverse::ike::testing {

Bytes pattern(std::size_t size, uint8_t seed) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<uint8_t>(seed + i * 7);
  }
  return out;
}

namespace {

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

SaPayload sample_sa() {
  Proposal ike;
  ike.number = 1;
  ike.protocol = ProtocolId::ike;
  ike.transforms = {
      {TransformType::encr, transform_id::encr_aes_gcm_16, 256, {}},
      {TransformType::encr, transform_id::encr_aes_cbc, 128, {}},
      {TransformType::prf, transform_id::prf_hmac_sha2_256, 0, {}},
      {TransformType::integ, transform_id::auth_hmac_sha2_256_128, 0, {}},
      {TransformType::dh, transform_id::ecp_256, 0, {}},
      {TransformType::dh, transform_id::curve25519, 0, {}},
  };
  Proposal esp;
  esp.number = 2;
  esp.protocol = ProtocolId::esp;
  esp.spi = {0xc0, 0x01, 0xd0, 0x0d};
  // A TLV attribute of a type IKEv2 does not define, to prove it survives.
  esp.transforms = {
      {TransformType::encr,
       transform_id::encr_chacha20_poly1305,
       0,
       {0x00, 0x42, 0x00, 0x02, 0xab, 0xcd}},
      {TransformType::esn, transform_id::esn_enabled, 0, {}},
      {TransformType::esn, transform_id::esn_none, 0, {}},
  };
  return SaPayload{{ike, esp}};
}

TsPayload sample_ts() {
  TrafficSelector v4{TsType::ipv4_addr_range, 6, 443, 443, {10, 0, 0, 0}, {10, 0, 255, 255}};
  TrafficSelector v6{TsType::ipv6_addr_range, 0, 0, 65535, Bytes(16, 0x00), Bytes(16, 0xff)};
  return TsPayload{{v4, v6}};
}

}  // namespace

std::vector<Payload> sample_payloads() {
  return {
      make_payload(sample_sa()),
      make_payload(KePayload{transform_id::ecp_256, pattern(64, 1)}),
      make_payload(PayloadType::idi, IdPayload{IdType::fqdn, text("client.example.net")}),
      make_payload(PayloadType::idr, IdPayload{IdType::der_asn1_dn, pattern(40, 2)}),
      make_payload(CertPayload{CertEncoding::x509_signature, pattern(300, 3)}),
      make_payload(CertReqPayload{CertEncoding::x509_signature, pattern(40, 4)}),
      make_payload(AuthPayload{AuthMethod::psk, pattern(32, 5)}),
      make_payload(NoncePayload{pattern(32, 6)}),
      make_payload(
          NotifyPayload{ProtocolId::none, {}, NotifyType::nat_detection_source_ip, pattern(20, 7)}),
      make_payload(NotifyPayload{ProtocolId::none, {}, static_cast<NotifyType>(40000), {9}}),
      make_payload(DeletePayload{ProtocolId::esp, 4, {{1, 2, 3, 4}, {5, 6, 7, 8}}}),
      make_payload(DeletePayload{ProtocolId::ike, 0, {}}),
      make_payload(VendorIdPayload{text("traverse")}),
      make_payload(PayloadType::tsi, sample_ts()),
      make_payload(PayloadType::tsr, sample_ts()),
      make_payload(CpPayload{ConfigType::request,
                             {{ConfigAttributeType::internal_ip4_address, {}},
                              {ConfigAttributeType::internal_ip4_dns, {}},
                              {ConfigAttributeType::internal_dns_domain, text("corp.example")}}}),
      make_payload(EapPayload{{2, 7, 0, 10, 1, 'a', 'l', 'i', 'c', 'e'}}),
      make_payload(UnknownPayload{200, false, pattern(5, 8)}),
      // Last: scapy 2.5 misreads the data length of a notify with an SPI (it
      // forgets to subtract the SPI size), so nothing may follow this one.
      make_payload(NotifyPayload{ProtocolId::esp, {1, 2, 3, 4}, NotifyType::rekey_sa, {}}),
  };
}

Message sample_ike_sa_init() {
  Message m;
  m.header.spi_i = 0x0123456789abcdefULL;
  m.header.exchange = ExchangeType::ike_sa_init;
  m.header.flags = header_flags::initiator;
  m.payloads = {
      make_payload(sample_sa()),
      make_payload(KePayload{transform_id::ecp_256, pattern(64, 11)}),
      make_payload(NoncePayload{pattern(32, 12)}),
      make_payload(NotifyPayload{
          ProtocolId::none, {}, NotifyType::nat_detection_source_ip, pattern(20, 13)}),
      make_payload(NotifyPayload{
          ProtocolId::none, {}, NotifyType::nat_detection_destination_ip, pattern(20, 14)}),
      make_payload(
          NotifyPayload{ProtocolId::none, {}, NotifyType::ikev2_fragmentation_supported, {}}),
      make_payload(VendorIdPayload{text("traverse")}),
  };
  return m;
}

std::map<std::string, Bytes> sample_datagrams() {
  std::map<std::string, Bytes> out;
  Message init = sample_ike_sa_init();
  out["ike_sa_init_request"] = build_message(init.header, init.payloads);

  Header response = init.header;
  response.spi_r = 0xfedcba9876543210ULL;
  response.flags = header_flags::response;
  out["ike_sa_init_cookie"] = build_message(
      response,
      {make_payload(NotifyPayload{ProtocolId::none, {}, NotifyType::cookie, pattern(32, 15)})});

  Header auth = response;
  auth.exchange = ExchangeType::ike_auth;
  auth.flags = header_flags::initiator;
  auth.message_id = 1;
  out["ike_auth_sk"] =
      build_message(auth, {make_payload(EncryptedPayload{PayloadType::idi, pattern(96, 16)})});
  out["ike_auth_skf_1"] = build_message(
      auth, {make_payload(EncryptedFragment{1, 2, PayloadType::idi, pattern(64, 17)})});
  out["ike_auth_skf_2"] = build_message(
      auth, {make_payload(EncryptedFragment{2, 2, PayloadType::none, pattern(48, 18)})});

  Header info = auth;
  info.exchange = ExchangeType::informational;
  info.message_id = 2;
  out["informational_every_payload"] = build_message(info, sample_payloads());
  out["informational_empty"] = build_message(info, {});
  return out;
}

}  // namespace traverse::ike::testing
