// Round trips of every payload kind, and byte-exact encodings written out by
// hand from the layouts in RFC 7296 section 3 and RFC 7383 2.5.
#include <gtest/gtest.h>

#include "control/ike/message/builder.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/message/test_messages.hh"

namespace traverse::ike {
namespace {

Header sample_header() {
  Header h;
  h.spi_i = 0x1122334455667788ULL;
  h.spi_r = 0x99aabbccddeeff00ULL;
  h.exchange = ExchangeType::informational;
  h.flags = header_flags::initiator | header_flags::response;
  h.message_id = 0x01020304;
  return h;
}

TEST(RoundTrip, EveryPayloadKindAlone) {
  for (const Payload& p : testing::sample_payloads()) {
    SCOPED_TRACE(to_string(p.type));
    const Bytes wire = build_message(sample_header(), {p});
    ASSERT_FALSE(wire.empty());
    auto parsed = parse_message(wire);
    ASSERT_TRUE(parsed) << parsed.error().describe();
    ASSERT_EQ(parsed->payloads.size(), 1u);
    EXPECT_EQ(parsed->payloads[0], p);
    Header want = sample_header();
    want.next_payload = p.type;
    want.length = static_cast<uint32_t>(wire.size());
    EXPECT_EQ(parsed->header, want);
  }
}

TEST(RoundTrip, WholeChainAndInnerChain) {
  const auto payloads = testing::sample_payloads();
  PayloadType first = PayloadType::none;
  const Bytes chain = serialize_payload_chain(payloads, &first);
  EXPECT_EQ(first, PayloadType::sa);
  auto parsed = parse_payload_chain(first, chain);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed.value(), payloads);

  const Bytes wire = build_message(sample_header(), payloads);
  ASSERT_EQ(wire.size(), ike_header_size + chain.size());
  EXPECT_TRUE(std::equal(chain.begin(), chain.end(), wire.begin() + ike_header_size));
}

TEST(RoundTrip, CriticalBitOfKnownPayloadIsKept) {
  Payload p = make_payload(VendorIdPayload{{1, 2, 3}});
  p.critical = true;
  const Bytes wire = build_message(sample_header(), {p});
  EXPECT_EQ(wire[ike_header_size + 1], 0x80);
  auto parsed = parse_message(wire);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->payloads[0].critical);
}

// RFC 7296 3.1 (header), 3.2 (generic header), 3.10 (Notify), by hand.
TEST(WireFormat, HeaderAndNotifyBytes) {
  Header h;
  h.spi_i = 0x0102030405060708ULL;
  h.exchange = ExchangeType::ike_sa_init;
  h.flags = header_flags::initiator;
  const Bytes wire = build_message(
      h, {make_payload(NotifyPayload{ProtocolId::none, {}, NotifyType::cookie, {0xaa, 0xbb}})});
  const Bytes want = {
      1,    2,    3,    4,    5, 6, 7, 8,  // IKE SA initiator's SPI
      0,    0,    0,    0,    0, 0, 0, 0,  // responder's SPI
      41,   0x20, 34,   0x08,              // next N, version 2.0, IKE_SA_INIT, I flag
      0,    0,    0,    0,                 // message ID
      0,    0,    0,    38,                // length
      0,    0,    0,    10,                // next none, not critical, payload length
      0,    0,    0x40, 0x06,              // protocol 0, SPI size 0, COOKIE (16390)
      0xaa, 0xbb,
  };
  EXPECT_EQ(wire, want);
}

// RFC 7296 3.3.1/3.3.2/3.3.5: proposal, transform and the TV Key Length attribute.
TEST(WireFormat, ProposalTransformAndKeyLength) {
  Proposal p;
  p.protocol = ProtocolId::esp;
  p.spi = {0xde, 0xad, 0xbe, 0xef};
  p.transforms = {{TransformType::encr, transform_id::encr_aes_gcm_16, 256, {}},
                  {TransformType::esn, transform_id::esn_none, 0, {}}};
  PayloadType first = PayloadType::none;
  const Bytes chain = serialize_payload_chain({make_payload(SaPayload{{p}})}, &first);
  const Bytes want = {
      0,    0,    0,    36,                 // generic header
      0,    0,    0,    32,                 // last proposal, length 32
      1,    3,    4,    2,                  // number 1, ESP, SPI size 4, 2 transforms
      0xde, 0xad, 0xbe, 0xef,               // SPI
      3,    0,    0,    12,   1, 0, 0, 20,  // more, length 12, ENCR, AES-GCM-16
      0x80, 14,   0x01, 0x00,               // TV Key Length 256
      0,    0,    0,    8,    5, 0, 0, 0,   // last, length 8, ESN, none
  };
  EXPECT_EQ(chain, want);
}

// RFC 7296 3.13.1: a TS_IPV4_ADDR_RANGE selector is 16 bytes.
TEST(WireFormat, TrafficSelectorBytes) {
  TrafficSelector s{TsType::ipv4_addr_range, 17, 500, 4500, {192, 0, 2, 1}, {192, 0, 2, 9}};
  PayloadType first = PayloadType::none;
  const Bytes chain =
      serialize_payload_chain({make_payload(PayloadType::tsr, TsPayload{{s}})}, &first);
  EXPECT_EQ(first, PayloadType::tsr);
  const Bytes want = {0,    0,    0,    24,   1,   0, 0, 0, 7,   17, 0, 16,
                      0x01, 0xf4, 0x11, 0x94, 192, 0, 2, 1, 192, 0,  2, 9};
  EXPECT_EQ(chain, want);
}

TEST(SkPrefix, PrefixPlusBodyParsesAsSk) {
  Header h = sample_header();
  const Bytes body = testing::pattern(50, 3);
  Bytes wire = build_sk_prefix(h, PayloadType::idi, body.size());
  ASSERT_EQ(wire.size(), ike_header_size + generic_payload_header_size);
  wire.insert(wire.end(), body.begin(), body.end());
  auto parsed = parse_message(wire);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed->header.next_payload, PayloadType::sk);
  EXPECT_EQ(parsed->header.length, wire.size());
  ASSERT_EQ(parsed->payloads.size(), 1u);
  const auto* sk = parsed->payloads[0].get<EncryptedPayload>();
  ASSERT_NE(sk, nullptr);
  EXPECT_EQ(sk->first_inner, PayloadType::idi);
  EXPECT_EQ(sk->body, body);
  // The prefix is exactly what build_message writes for the same SK payload.
  const Bytes built = build_message(h, {make_payload(EncryptedPayload{PayloadType::idi, body})});
  EXPECT_EQ(built, wire);
}

TEST(SkPrefix, PlainPayloadsBeforeSk) {
  const Header h = sample_header();
  const Payload vendor = make_payload(VendorIdPayload{{7, 7}});
  const Bytes body = testing::pattern(20, 4);
  Bytes wire = build_sk_prefix(h, {vendor}, PayloadType::nonce, body.size());
  wire.insert(wire.end(), body.begin(), body.end());
  auto parsed = parse_message(wire);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  ASSERT_EQ(parsed->payloads.size(), 2u);
  EXPECT_EQ(parsed->payloads[0], vendor);
  const auto* sk = parsed->payloads[1].get<EncryptedPayload>();
  ASSERT_NE(sk, nullptr);
  EXPECT_EQ(sk->first_inner, PayloadType::nonce);
}

TEST(SkPrefix, OversizedBodyGivesEmpty) {
  EXPECT_TRUE(build_sk_prefix(sample_header(), PayloadType::idi, 65532).empty());
  EXPECT_FALSE(build_sk_prefix(sample_header(), PayloadType::idi, 65531).empty());
}

// RFC 7383 2.5: only fragment 1 names the first inner payload.
TEST(SkfPrefix, OnlyFirstFragmentCarriesNextPayload) {
  const Header h = sample_header();
  for (uint16_t number : {1, 2, 3}) {
    const Bytes body = testing::pattern(33, static_cast<uint8_t>(number));
    Bytes wire = build_skf_prefix(h, PayloadType::idi, number, 3, body.size());
    ASSERT_EQ(wire.size(), ike_header_size + skf_header_size);
    EXPECT_EQ(wire[ike_header_size], number == 1 ? 35 : 0);
    wire.insert(wire.end(), body.begin(), body.end());
    auto parsed = parse_message(wire);
    ASSERT_TRUE(parsed) << parsed.error().describe();
    const auto* skf = parsed->payloads.at(0).get<EncryptedFragment>();
    ASSERT_NE(skf, nullptr);
    EXPECT_EQ(skf->number, number);
    EXPECT_EQ(skf->total, 3);
    EXPECT_EQ(skf->body, body);
    EXPECT_EQ(parsed->header.length, wire.size());
  }
}

TEST(Builder, OversizedPayloadGivesEmpty) {
  EXPECT_TRUE(
      build_message(sample_header(), {make_payload(VendorIdPayload{Bytes(65532)})}).empty());
  EXPECT_FALSE(
      build_message(sample_header(), {make_payload(VendorIdPayload{Bytes(65531)})}).empty());
  DeletePayload wrong_size{ProtocolId::esp, 4, {{1, 2, 3}}};
  EXPECT_TRUE(build_message(sample_header(), {make_payload(wrong_size)}).empty());
}

TEST(Message, Lookups) {
  auto parsed = parse_message(testing::sample_datagrams().at("informational_every_payload"));
  ASSERT_TRUE(parsed) << parsed.error().describe();
  const Message& m = parsed.value();
  const IdPayload* idr = m.first<IdPayload>(PayloadType::idr);
  ASSERT_NE(idr, nullptr);
  EXPECT_EQ(idr->type, IdType::der_asn1_dn);
  EXPECT_EQ(m.find_all(PayloadType::notify).size(), 3u);
  EXPECT_EQ(m.find_all(PayloadType::delete_).size(), 2u);
  const NotifyPayload* rekey = m.find_notify(NotifyType::rekey_sa);
  ASSERT_NE(rekey, nullptr);
  EXPECT_EQ(rekey->spi, (Bytes{1, 2, 3, 4}));
  ASSERT_NE(m.find_notify(static_cast<NotifyType>(40000)), nullptr);
  EXPECT_EQ(m.find_notify(NotifyType::cookie), nullptr);
  const CpPayload* cp = m.first<CpPayload>(PayloadType::cp);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->attributes.size(), 3u);
  EXPECT_EQ(m.first<KePayload>(PayloadType::cp), nullptr);
  EXPECT_EQ(m.find(PayloadType::sk), nullptr);
  EXPECT_TRUE(m.header.is_initiator());
  EXPECT_FALSE(m.header.is_response());
}

// RFC 7296 2.15: IDx' is the ID payload without its generic header.
TEST(IdPayloadBody, TypeReservedThenData) {
  EXPECT_EQ(id_payload_body(IdPayload{IdType::fqdn, {'a', 'b'}}), (Bytes{2, 0, 0, 0, 'a', 'b'}));
}

TEST(Names, ForLogs) {
  EXPECT_EQ(to_string(NotifyType::ikev2_fragmentation_supported), "IKEV2_FRAGMENTATION_SUPPORTED");
  EXPECT_EQ(to_string(static_cast<NotifyType>(40000)), "40000");
  EXPECT_EQ(to_string(ExchangeType::create_child_sa), "CREATE_CHILD_SA");
  EXPECT_EQ(to_string(PayloadType::skf), "SKF");
  EXPECT_EQ(to_string(ConfigAttributeType::internal_dns_domain), "INTERNAL_DNS_DOMAIN");
  EXPECT_TRUE(is_error(NotifyType::ts_unacceptable));
  EXPECT_FALSE(is_error(NotifyType::cookie));
}

}  // namespace
}  // namespace traverse::ike
