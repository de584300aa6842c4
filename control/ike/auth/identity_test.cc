// Identities: parsing, printing, DN encoding and equality, patterns.
#include "control/ike/auth/identity.hh"

#include <gtest/gtest.h>

#include "control/ike/auth/identity_pattern.hh"
#include "control/ike/auth/test_pki.hh"

namespace traverse::ike {
namespace {

using testing::from_hex;

Bytes text_bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

struct ParseCase {
  std::string_view text;
  uint8_t type;
  Bytes data;
};

TEST(Identity, ParsesConfigText) {
  const ParseCase cases[] = {
      {"fqdn:gw.traverse.lab", id_type::fqdn, text_bytes("gw.traverse.lab")},
      {"gw.traverse.lab", id_type::fqdn, text_bytes("gw.traverse.lab")},
      {"  gw  ", id_type::fqdn, text_bytes("gw")},
      {"email:u@x", id_type::rfc822_addr, text_bytes("u@x")},
      {"rfc822:u@x", id_type::rfc822_addr, text_bytes("u@x")},
      {"alice@traverse.lab", id_type::rfc822_addr, text_bytes("alice@traverse.lab")},
      {"ip:1.2.3.4", id_type::ipv4_addr, {1, 2, 3, 4}},
      {"198.51.100.7", id_type::ipv4_addr, {198, 51, 100, 7}},
      {"ipv4:192.0.2.1", id_type::ipv4_addr, {192, 0, 2, 1}},
      {"ip:2001:db8::1", id_type::ipv6_addr, from_hex("20010db8000000000000000000000001")},
      {"2001:db8::1", id_type::ipv6_addr, from_hex("20010db8000000000000000000000001")},
      {"::1", id_type::ipv6_addr, from_hex("00000000000000000000000000000001")},
      {"keyid:0102ab", id_type::key_id, {0x01, 0x02, 0xab}},
      {"keyid:0x01:02:AB", id_type::key_id, {0x01, 0x02, 0xab}},
      // DER hand-derived from RFC 5280 4.1.2.4 (Name) and X.520 attribute OIDs:
      // countryName (2.5.4.6) PrintableString, the others UTF8String.
      {"C=CH, O=Traverse, CN=gw", id_type::der_asn1_dn,
       from_hex("302d 310b 3009 0603 550406 1302 4348"
                "3111 300f 0603 55040a 0c08 5472617665727365"
                "310b 3009 0603 550403 0c02 6777")},
  };
  for (const auto& c : cases) {
    auto id = parse_identity(c.text);
    ASSERT_TRUE(id) << c.text << ": " << id.error();
    EXPECT_EQ(id->type, c.type) << c.text;
    EXPECT_EQ(id->data, c.data) << c.text;
  }
}

TEST(Identity, DnSyntaxVariantsGiveTheSameDer) {
  auto reference = parse_identity("C=CH, O=Traverse, CN=gw");
  ASSERT_TRUE(reference);
  for (std::string_view text :
       {"dn:C=CH, O=Traverse, CN=gw", "C=CH,O=Traverse,CN=gw", "/C=CH/O=Traverse/CN=gw",
        "asn1dn: c=CH , o=Traverse , cn=gw ", "C=CH, O=\"Traverse\", CN=gw"}) {
    auto id = parse_identity(text);
    ASSERT_TRUE(id) << text << ": " << id.error();
    EXPECT_EQ(id->data, reference->data) << text;
  }
}

TEST(Identity, DnEqualityIsCanonical) {
  auto a = parse_identity("C=CH, O=Traverse, CN=gw");
  auto b = parse_identity("C=CH, O=traverse, CN=GW");
  auto reordered = parse_identity("CN=gw, O=Traverse, C=CH");
  auto other = parse_identity("C=CH, O=Traverse, CN=gw2");
  ASSERT_TRUE(a && b && reordered && other);
  EXPECT_NE(a->data, b->data);
  EXPECT_EQ(*a, *b);  // X.520 caseIgnoreMatch
  EXPECT_FALSE(*a == *reordered);
  EXPECT_FALSE(*a == *other);
  // Different types never compare equal, even with the same bytes.
  EXPECT_FALSE(
      (Identity{id_type::fqdn, text_bytes("x")} == Identity{id_type::key_id, text_bytes("x")}));
}

TEST(Identity, PrintsReadably) {
  struct Case {
    std::string_view text;
    std::string_view printed;
  };
  const Case cases[] = {
      {"gw.traverse.lab", "gw.traverse.lab"},
      {"alice@traverse.lab", "alice@traverse.lab"},
      {"ip:1.2.3.4", "1.2.3.4"},
      {"ip:2001:db8:0::1", "2001:db8::1"},
      {"keyid:0102ab", "keyid:0102ab"},
      {"C=CH, O=Traverse, CN=gw", "C=CH, O=Traverse, CN=gw"},
      {"/C=CH/O=Traverse/CN=gw", "C=CH, O=Traverse, CN=gw"},
      {"CN=\"Doe, John\", O=Traverse", "CN=Doe\\, John, O=Traverse"},
      {"E=admin@traverse.lab, CN=gw", "emailAddress=admin@traverse.lab, CN=gw"},
  };
  for (const auto& c : cases) {
    auto id = parse_identity(c.text);
    ASSERT_TRUE(id) << c.text << ": " << id.error();
    std::string printed = to_string(*id);
    EXPECT_EQ(printed, c.printed) << c.text;
    // What we print reads back as the same identity.
    auto again = parse_identity(printed);
    ASSERT_TRUE(again) << printed << ": " << again.error();
    EXPECT_EQ(*again, *id) << printed;
  }
  EXPECT_EQ(to_string(Identity{id_type::fqdn, {'a', 0x01, '\\', 0xff}}), "a\\x01\\x5c\\xff");
  EXPECT_EQ(to_string(Identity{id_type::ipv4_addr, {1, 2, 3}}), "malformed-ip:010203");
  EXPECT_EQ(to_string(Identity{id_type::der_asn1_dn, {0x30, 0x05}}), "malformed-dn:3005");
  EXPECT_EQ(to_string(Identity{id_type::der_asn1_gn, {0xab}}), "gn:ab");
  EXPECT_EQ(to_string(Identity{200, {0x01}}), "id200:01");
}

TEST(Identity, RejectsBadText) {
  for (std::string_view text : {"",
                                "   ",
                                "ip:300.1.1.1",
                                "ip:",
                                "ipv4:2001:db8::1",
                                "ipv6:1.2.3.4",
                                "keyid:zz",
                                "keyid:abc",
                                "keyid:",
                                "dn:C=CH, XX=foo",
                                "dn:CN",
                                "dn:CN=",
                                "C=CHE, CN=x",
                                "CN=a\\",
                                "CN=\"open",
                                "email:",
                                "fqdn:",
                                "@host",
                                "user@",
                                "two words"}) {
    auto id = parse_identity(text);
    EXPECT_FALSE(id) << "'" << text << "' parsed";
    if (!id) {
      EXPECT_FALSE(id.error().empty());
    }
  }
  EXPECT_FALSE(parse_identity(std::string(2000, 'a')));
}

TEST(Identity, DnHelpersRejectMalformedDer) {
  auto good = encode_dn("C=CH, CN=gw");
  ASSERT_TRUE(good);
  EXPECT_TRUE(dn_to_string(*good));
  Bytes truncated(good->begin(), good->end() - 1);
  EXPECT_FALSE(dn_to_string(truncated));
  Bytes trailing = *good;
  trailing.push_back(0);
  EXPECT_FALSE(dn_to_string(trailing));
  EXPECT_FALSE(dn_to_string(Bytes{}));
  EXPECT_FALSE(dn_attributes(Bytes{0x30, 0x03, 0x31, 0x05, 0x30}));
}

struct PatternCase {
  std::string_view pattern;
  std::string_view identity;
  bool matches;
};

TEST(IdentityPattern, MatchesTable) {
  const PatternCase cases[] = {
      {"%any", "gw.traverse.lab", true},
      {"%any", "C=CH, CN=x", true},
      {"*.traverse.lab", "gw.traverse.lab", true},
      {"*.traverse.lab", "a.b.traverse.lab", true},
      {"*.traverse.lab", "GW.Traverse.LAB", true},
      {"*.traverse.lab", "traverse.lab", false},
      {"*.traverse.lab", "gw.traverse.lab.evil", false},
      {"*.traverse.lab", "gwtraverse.lab", false},
      {"*.traverse.lab", "email:gw.traverse.lab", false},
      {"*@traverse.lab", "alice@traverse.lab", true},
      {"*@traverse.lab", "alice@evil.lab", false},
      {"*@traverse.lab", "alice@sub.traverse.lab", false},
      {"*@traverse.lab", "fqdn:alice@traverse.lab", false},
      {"gw.traverse.lab", "gw.traverse.lab", true},
      {"gw.traverse.lab", "gw2.traverse.lab", false},
      {"ip:192.0.2.1", "192.0.2.1", true},
      {"ip:192.0.2.1", "192.0.2.2", false},
      {"2001:db8::1", "ip:2001:db8:0:0::1", true},
      {"C=CH, O=Traverse, CN=gw", "C=CH, O=traverse, CN=gw", true},
      {"C=CH, O=Traverse, CN=*", "C=CH, O=Traverse, CN=anyone", true},
      {"C=CH, O=Traverse, CN=*", "C=CH, O=TRAVERSE, CN=x", true},
      {"C=CH, O=Traverse, CN=*", "C=CH, O=Other, CN=anyone", false},
      {"C=CH, O=Traverse, CN=*", "C=CH, O=Traverse", false},
      {"C=CH, O=Traverse, CN=*", "C=CH, O=Traverse, OU=x, CN=y", false},
      {"C=CH, O=Traverse, CN=*", "CN=y, O=Traverse, C=CH", false},
      {"C=CH, O=Traverse, CN=*", "anyone.traverse.lab", false},
      {"C=CH, O=*, CN=gw", "C=CH, O=Anything, CN=gw", true},
      {"C=CH, O=*, CN=gw", "C=CH, O=Anything, CN=gw2", false},
  };
  for (const auto& c : cases) {
    auto pattern = IdentityPattern::parse(c.pattern);
    ASSERT_TRUE(pattern) << c.pattern << ": " << pattern.error();
    auto id = parse_identity(c.identity);
    ASSERT_TRUE(id) << c.identity << ": " << id.error();
    EXPECT_EQ(pattern->matches(*id), c.matches) << c.pattern << " vs " << c.identity;
  }
}

TEST(IdentityPattern, RejectsBadPatterns) {
  for (std::string_view text :
       {"", "*.", "*@", "*.a*b", "*.a b", "gw*.lab", "a*@x", "ip:1.2.3", "dn:CN", "*@a@b"}) {
    EXPECT_FALSE(IdentityPattern::parse(text)) << "'" << text << "' parsed";
  }
}

}  // namespace
}  // namespace traverse::ike
