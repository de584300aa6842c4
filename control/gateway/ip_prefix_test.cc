#include "control/gateway/ip_prefix.hh"

#include <gtest/gtest.h>

namespace traverse::gateway {
namespace {

TEST(IpPrefix, ParsesBothFamiliesAndPrintsCanonically) {
  auto v4 = Address::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->version, 4);
  EXPECT_EQ(v4->bytes[0], 192);
  EXPECT_EQ(v4->bytes[3], 1);
  auto v6 = Address::parse("2001:DB8:0:0::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->version, 6);
  EXPECT_EQ(v6->to_string(), "2001:db8::1");  // RFC 5952 canonical text
}

TEST(IpPrefix, RejectsHostileAddresses) {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "1.2.3.4 ", "%any", "2001:db8::1::2"}) {
    EXPECT_FALSE(Address::parse(bad)) << bad;
  }
  EXPECT_FALSE(Address::parse(std::string(1000, '1')));
}

TEST(IpPrefix, CidrRequiresZeroHostBitsAndValidLength) {
  auto net = Cidr::parse("10.99.0.0/24");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->prefix, 24);
  EXPECT_EQ(net->to_string(), "10.99.0.0/24");
  auto host = Cidr::parse("10.99.0.7");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->is_host());
  auto bad = Cidr::parse("10.99.0.5/24");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("did you mean 10.99.0.0/24"), std::string::npos) << bad.error();
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/-1"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/8x"));
  EXPECT_FALSE(Cidr::parse("2001:db8::/129"));
  EXPECT_TRUE(Cidr::parse("2001:db8::/64"));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0"));
}

TEST(IpPrefix, ContainsAndOverlaps) {
  auto net = *Cidr::parse("10.1.0.0/23");
  EXPECT_TRUE(net.contains(*Address::parse("10.1.1.255")));
  EXPECT_FALSE(net.contains(*Address::parse("10.1.2.0")));
  EXPECT_FALSE(net.contains(*Address::parse("::ffff:10.1.0.1")));  // another family
  EXPECT_TRUE(net.overlaps(*Cidr::parse("10.1.1.0/24")));
  EXPECT_TRUE(net.overlaps(*Cidr::parse("10.0.0.0/8")));
  EXPECT_FALSE(net.overlaps(*Cidr::parse("10.1.2.0/24")));
}

}  // namespace
}  // namespace traverse::gateway
