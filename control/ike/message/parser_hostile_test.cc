// Hostile input: truncations, lying lengths, count blow-ups, critical unknown
// payloads and nested lengths that overflow their containers. Every case must
// give a clear error (never a crash; CI runs this under ASan+UBSan).
#include <gtest/gtest.h>

#include "control/ike/message/builder.hh"
#include "control/ike/message/fuzz_properties.hh"
#include "control/ike/message/parser.hh"
#include "control/ike/message/test_messages.hh"

namespace traverse::ike {
namespace {

// A generic payload (RFC 7296 3.2) with a correct length around `body`.
Bytes raw_payload(uint8_t next, uint8_t flags, const Bytes& body) {
  const std::size_t length = body.size() + 4;
  Bytes out{next, flags, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// An IKE header with a correct length in front of `chain`.
Bytes raw_message(uint8_t first, const Bytes& chain, uint8_t version = 0x20) {
  Bytes out(28, 0);
  out[0] = 0x11;
  out[16] = first;
  out[17] = version;
  out[18] = 37;
  const std::size_t length = 28 + chain.size();
  out[26] = static_cast<uint8_t>(length >> 8);
  out[27] = static_cast<uint8_t>(length);
  out.insert(out.end(), chain.begin(), chain.end());
  return out;
}

ParseError error_of(const Bytes& datagram) {
  auto parsed = parse_message(datagram);
  EXPECT_FALSE(parsed) << "accepted a hostile message";
  return parsed ? ParseError{} : parsed.error();
}

void set_length(Bytes& datagram, std::size_t length) {
  for (int i = 0; i < 4; ++i) {
    datagram[24 + static_cast<std::size_t>(i)] = static_cast<uint8_t>(length >> (24 - 8 * i));
  }
}

TEST(Hostile, EveryTruncationOfEverySample) {
  for (const auto& [name, full] : testing::sample_datagrams()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(parse_message(full)) << parse_message(full).error().describe();
    for (std::size_t size = 0; size < full.size(); ++size) {
      Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size));
      EXPECT_FALSE(parse_message(cut)) << size;
      // Also with a header that agrees, so the chain walk itself must notice.
      if (size >= ike_header_size) {
        set_length(cut, size);
        auto parsed = parse_message(cut);
        EXPECT_FALSE(parsed) << "size " << size;
      }
    }
  }
}

// Offsets of the generic payload length fields of a datagram we built.
std::vector<std::size_t> payload_length_offsets(const Bytes& datagram) {
  std::vector<std::size_t> offsets;
  std::size_t at = ike_header_size;
  uint8_t next = datagram[16];
  while (next != 0 && at + 4 <= datagram.size()) {
    offsets.push_back(at + 2);
    const std::size_t length = static_cast<std::size_t>(datagram[at + 2] << 8 | datagram[at + 3]);
    next = (next == 46 || next == 53) ? 0 : datagram[at];
    at += length;
  }
  return offsets;
}

TEST(Hostile, LyingPayloadLengths) {
  for (const auto& [name, full] : testing::sample_datagrams()) {
    SCOPED_TRACE(name);
    for (std::size_t offset : payload_length_offsets(full)) {
      const unsigned real = static_cast<unsigned>(full[offset] << 8 | full[offset + 1]);
      for (unsigned lie : {0u, 1u, 3u, real - 1, real + 1, real + 4, 0xffffu}) {
        Bytes bad = full;
        bad[offset] = static_cast<uint8_t>(lie >> 8);
        bad[offset + 1] = static_cast<uint8_t>(lie);
        EXPECT_FALSE(parse_message(bad)) << "offset " << offset << " length " << lie;
      }
    }
  }
}

// Every 16-bit field (lengths inside substructures included) set to values
// that lie: whatever is accepted must round-trip, nothing may crash.
TEST(Hostile, EveryPositionLyingValues) {
  const Bytes full = testing::sample_datagrams().at("informational_every_payload");
  std::size_t rejected = 0;
  for (std::size_t offset = ike_header_size; offset + 1 < full.size(); ++offset) {
    for (unsigned lie : {0u, 1u, 4u, 8u, 0x7fffu, 0x8000u, 0xffffu}) {
      Bytes bad = full;
      bad[offset] = static_cast<uint8_t>(lie >> 8);
      bad[offset + 1] = static_cast<uint8_t>(lie);
      const auto check = fuzzing::check_message(bad);
      EXPECT_TRUE(check.violation.empty()) << offset << ": " << check.violation;
      rejected += check.parsed ? 0 : 1;
    }
  }
  EXPECT_GT(rejected, full.size());  // most lies are caught
}

TEST(Hostile, HeaderChecks) {
  Bytes ok = raw_message(0, {});
  EXPECT_TRUE(parse_message(ok));
  EXPECT_TRUE(parse_header(ok));

  const ParseError v3 = error_of(raw_message(0, {}, 0x30));
  EXPECT_EQ(v3.kind, ParseErrorKind::invalid_major_version);
  EXPECT_EQ(v3.notify(), NotifyType::invalid_major_version);
  EXPECT_EQ(error_of(raw_message(0, {}, 0x10)).kind, ParseErrorKind::invalid_major_version);
  // Minor version differences are accepted (RFC 7296 2.5).
  EXPECT_TRUE(parse_message(raw_message(0, {}, 0x21)));

  Bytes longer = ok;
  longer.push_back(0);
  EXPECT_EQ(error_of(longer).kind, ParseErrorKind::bad_length);
  Bytes lying = ok;
  set_length(lying, 27);
  EXPECT_EQ(error_of(lying).kind, ParseErrorKind::bad_length);
  EXPECT_FALSE(parse_header(lying));
  EXPECT_EQ(error_of(Bytes(27, 0)).kind, ParseErrorKind::truncated);

  Bytes huge = raw_message(43, raw_payload(0, 0, Bytes(70000 - 32, 0)));
  EXPECT_EQ(error_of(huge).kind, ParseErrorKind::too_large);
}

// The lead dispatches on the header before a full parse: it must read the
// SPIs and exchange even when the payloads behind it are garbage.
TEST(Hostile, HeaderAloneDespiteBadBody) {
  Bytes datagram = testing::sample_datagrams().at("ike_auth_sk");
  datagram.resize(40, 0xff);
  EXPECT_FALSE(parse_message(datagram));
  auto header = parse_header(datagram);
  ASSERT_TRUE(header) << header.error().describe();
  EXPECT_EQ(header->spi_i, 0x0123456789abcdefULL);
  EXPECT_EQ(header->spi_r, 0xfedcba9876543210ULL);
  EXPECT_EQ(header->exchange, ExchangeType::ike_auth);
  EXPECT_EQ(header->message_id, 1u);
  EXPECT_EQ(header->next_payload, PayloadType::sk);
  EXPECT_TRUE(header->is_initiator());
}

TEST(Hostile, PayloadCountBlowUp) {
  auto chain_of = [](std::size_t count) {
    Bytes chain;
    for (std::size_t i = 0; i < count; ++i) {
      const Bytes v = raw_payload(i + 1 < count ? 43 : 0, 0, {});
      chain.insert(chain.end(), v.begin(), v.end());
    }
    return raw_message(43, chain);
  };
  EXPECT_TRUE(parse_message(chain_of(64)));
  const ParseError e = error_of(chain_of(65));
  EXPECT_EQ(e.kind, ParseErrorKind::too_many);
  EXPECT_EQ(e.notify(), NotifyType::invalid_syntax);
  ParseLimits tight;
  tight.max_payloads = 3;
  EXPECT_FALSE(parse_message(chain_of(4), tight));
}

TEST(Hostile, UnknownPayloads) {
  const Bytes critical = raw_message(60, raw_payload(0, 0x80, {1, 2}));
  const ParseError e = error_of(critical);
  EXPECT_EQ(e.kind, ParseErrorKind::unsupported_critical_payload);
  EXPECT_EQ(e.payload_type, 60u);
  EXPECT_EQ(e.notify(), NotifyType::unsupported_critical_payload);

  auto parsed = parse_message(raw_message(60, raw_payload(0, 0x00, {1, 2})));
  ASSERT_TRUE(parsed);
  const auto* unknown = parsed->payloads.at(0).get<UnknownPayload>();
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ(unknown->type, 60);
  EXPECT_EQ(unknown->body, (Bytes{1, 2}));
}

TEST(Hostile, EncryptedPayloadPlacement) {
  // Bytes after SK: SK must be the last payload.
  Bytes chain = raw_payload(35, 0, Bytes(20, 1));
  chain.push_back(0);
  EXPECT_EQ(error_of(raw_message(46, chain)).kind, ParseErrorKind::invalid_syntax);
  // SK inside a decrypted chain.
  EXPECT_FALSE(parse_payload_chain(PayloadType::sk, raw_payload(0, 0, Bytes(20, 1))));
  // SKF numbers: 0, and above the total (RFC 7383 2.5).
  EXPECT_FALSE(parse_message(raw_message(53, raw_payload(0, 0, {0, 0, 0, 2, 9}))));
  EXPECT_FALSE(parse_message(raw_message(53, raw_payload(0, 0, {0, 3, 0, 2, 9}))));
  EXPECT_TRUE(parse_message(raw_message(53, raw_payload(0, 0, {0, 2, 0, 2, 9}))));
}

ParseErrorKind body_error(uint8_t type, const Bytes& body) {
  auto parsed = parse_payload_chain(static_cast<PayloadType>(type), raw_payload(0, 0, body));
  EXPECT_FALSE(parsed) << "accepted a hostile payload of type " << int{type};
  return parsed ? ParseErrorKind{} : parsed.error().kind;
}

TEST(Hostile, NestedLengthsInSa) {
  // Proposal length beyond the SA payload.
  EXPECT_EQ(body_error(33, {0, 0, 0, 200, 1, 1, 0, 0}), ParseErrorKind::bad_length);
  // Proposal length below its header.
  EXPECT_EQ(body_error(33, {0, 0, 0, 7, 1, 1, 0, 0}), ParseErrorKind::bad_length);
  // Transform length beyond the proposal.
  EXPECT_EQ(body_error(33, {0, 0, 0, 16, 1, 1, 0, 1, 0, 0, 0, 40, 1, 0, 0, 12}),
            ParseErrorKind::bad_length);
  // Transform length below 8.
  EXPECT_EQ(body_error(33, {0, 0, 0, 16, 1, 1, 0, 1, 0, 0, 0, 4, 1, 0, 0, 12}),
            ParseErrorKind::bad_length);
  // SPI size beyond the proposal.
  EXPECT_EQ(body_error(33, {0, 0, 0, 8, 1, 3, 200, 0}), ParseErrorKind::bad_length);
  // Announces 2 transforms, holds 1.
  EXPECT_EQ(body_error(33, {0, 0, 0, 16, 1, 1, 0, 2, 0, 0, 0, 8, 1, 0, 0, 12}),
            ParseErrorKind::invalid_syntax);
  // TLV attribute longer than its transform.
  EXPECT_EQ(body_error(33, {0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 5, 0xff, 0xff}),
            ParseErrorKind::bad_length);
  // Key Length in TLV form, and twice.
  EXPECT_EQ(body_error(33, {0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 14, 0, 0}),
            ParseErrorKind::invalid_syntax);
  EXPECT_EQ(body_error(33, {0, 0, 0, 24, 1,    1,  0, 1, 0,    0,  0, 16,
                            1, 0, 0, 12, 0x80, 14, 1, 0, 0x80, 14, 1, 0}),
            ParseErrorKind::invalid_syntax);
  // Last-substructure values other than 0/2 and 0/3, and no last proposal.
  EXPECT_EQ(body_error(33, {5, 0, 0, 8, 1, 1, 0, 0}), ParseErrorKind::invalid_syntax);
  EXPECT_EQ(body_error(33, {2, 0, 0, 8, 1, 1, 0, 0}), ParseErrorKind::invalid_syntax);
  EXPECT_EQ(body_error(33, {}), ParseErrorKind::invalid_syntax);
}

TEST(Hostile, CountLimitsInsidePayloads) {
  // 33 proposals of 8 bytes each.
  Bytes sa;
  for (int i = 0; i < 33; ++i) {
    const Bytes p{static_cast<uint8_t>(i == 32 ? 0 : 2), 0, 0, 8, 1, 1, 0, 0};
    sa.insert(sa.end(), p.begin(), p.end());
  }
  EXPECT_EQ(body_error(33, sa), ParseErrorKind::too_many);
  // 65 transforms announced.
  EXPECT_EQ(body_error(33, {0, 0, 0, 8, 1, 1, 0, 65}), ParseErrorKind::too_many);
  // 17 selectors announced.
  EXPECT_EQ(body_error(44, {17, 0, 0, 0}), ParseErrorKind::too_many);
  // 1025 delete SPIs.
  EXPECT_EQ(body_error(42, {3, 4, 0x04, 0x01}), ParseErrorKind::too_many);
  // 65 configuration attributes.
  Bytes cp{1, 0, 0, 0};
  for (int i = 0; i < 65; ++i) {
    const Bytes a{0, 1, 0, 0};
    cp.insert(cp.end(), a.begin(), a.end());
  }
  EXPECT_EQ(body_error(47, cp), ParseErrorKind::too_many);
}

TEST(Hostile, NestedLengthsInOtherPayloads) {
  // TS: an IPv4 range must be 16 bytes, an IPv6 range 40.
  EXPECT_EQ(body_error(44, {1, 0, 0, 0, 7, 0, 0, 40, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8}),
            ParseErrorKind::bad_length);
  EXPECT_EQ(body_error(44, {1, 0, 0, 0, 8, 0, 0, 16, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8}),
            ParseErrorKind::bad_length);
  // Selector length beyond the payload, and a count larger than the content.
  EXPECT_EQ(body_error(44, {1, 0, 0, 0, 9, 0, 0xff, 0xff, 0, 0, 0, 0}), ParseErrorKind::bad_length);
  EXPECT_EQ(body_error(44, {2, 0, 0, 0, 7, 0, 0, 16, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8}),
            ParseErrorKind::truncated);
  // CP attribute length beyond the payload.
  EXPECT_EQ(body_error(47, {1, 0, 0, 0, 0, 1, 0, 4, 10, 0}), ParseErrorKind::bad_length);
  // Notify SPI size beyond the payload.
  EXPECT_EQ(body_error(41, {3, 8, 0x40, 0x09, 1, 2, 3, 4}), ParseErrorKind::bad_length);
  // Delete: count x size disagrees with the data; SPI size 0 with SPIs.
  EXPECT_EQ(body_error(42, {3, 4, 0, 2, 1, 2, 3, 4}), ParseErrorKind::bad_length);
  EXPECT_EQ(body_error(42, {1, 0, 0, 3}), ParseErrorKind::bad_length);
  // EAP length disagreeing with the payload.
  EXPECT_EQ(body_error(48, {1, 1, 0, 9, 1}), ParseErrorKind::bad_length);
  // Fixed headers that do not fit.
  EXPECT_EQ(body_error(34, {0, 19}), ParseErrorKind::truncated);
  EXPECT_EQ(body_error(35, {2, 0}), ParseErrorKind::truncated);
  EXPECT_EQ(body_error(39, {2}), ParseErrorKind::truncated);
  EXPECT_EQ(body_error(37, {}), ParseErrorKind::truncated);
  // Nonce outside 16..256 bytes (RFC 7296 3.9).
  EXPECT_EQ(body_error(40, Bytes(15, 1)), ParseErrorKind::invalid_syntax);
  EXPECT_EQ(body_error(40, Bytes(257, 1)), ParseErrorKind::invalid_syntax);
}

TEST(Hostile, ErrorsDescribeThemselves) {
  const ParseError e = error_of(raw_message(33, raw_payload(0, 0, {0, 0, 0, 200, 1, 1, 0, 0})));
  EXPECT_EQ(e.payload_type, 33);
  EXPECT_EQ(e.notify(), NotifyType::invalid_syntax);
  EXPECT_NE(e.describe().find("SA"), std::string::npos) << e.describe();
  EXPECT_NE(e.describe().find("200"), std::string::npos) << e.describe();
}

}  // namespace
}  // namespace traverse::ike
