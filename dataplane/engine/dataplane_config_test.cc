// The dataplane config parser: a full lab config parses; every mistake names
// the file, line and key.
#include "dataplane/engine/dataplane_config.hh"

#include <gtest/gtest.h>

namespace traverse::engine {
namespace {

constexpr char kGood[] = R"(
[dataplane]
workers = 2
eal = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf"]
api_socket = "/tmp/traverse-test/dp.sock"

[dataplane.outside]
device = "net_af_packet0,iface=gw-out,qpairs=2"
address = ["192.0.2.1/24", "2001:db8::1/64"]
gateway = "192.0.2.254"
tap = "tv-out"

[dataplane.inside]
device = "net_af_packet1,iface=gw-in,qpairs=2"
address = "10.1.0.1/24"
mtu = 9000

[[dataplane.sa]]
direction = "outbound"
spi = 0x1001
transform = "aes256gcm16"
key = "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
salt = "0a0b0c0d"
local = "192.0.2.1"
remote = "198.51.100.7"
udp_encap = true
remote_port = 31000
hard_packets = 1000000

[[dataplane.sa]]
direction = "inbound"
spi = 0x2001
transform = "aes128-sha256"
backend = "openssl"
key = "000102030405060708090a0b0c0d0e0f"
auth_key = "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
local = "192.0.2.1"
remote = "198.51.100.7"
esn = true
replay_window = 4096

[[dataplane.policy]]
selector = "10.8.0.5/32"
spi = 0x1001
)";

TEST(DataplaneConfig, ParsesAFullConfig) {
  std::string error;
  auto config = parse_dataplane_config(kGood, "good.toml", &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->workers, 2u);
  EXPECT_EQ(config->eal_args.size(), 5u);
  EXPECT_EQ(config->outside.addresses.size(), 2u);
  EXPECT_EQ(config->outside.addresses[1].length, 64);
  EXPECT_EQ(config->outside.gateways.at(0).to_string(), "192.0.2.254");
  EXPECT_EQ(config->inside.mtu, 9000);
  ASSERT_EQ(config->sas.size(), 2u);
  EXPECT_EQ(config->sas[0].sa.spi, 0x1001u);
  EXPECT_EQ(config->sas[0].sa.transform, crypto::Transform::aes_gcm_256);
  EXPECT_TRUE(config->sas[0].sa.udp_encap);
  EXPECT_EQ(config->sas[0].sa.remote_port, 31000);
  EXPECT_EQ(config->sas[0].hard_packets, 1000000u);
  EXPECT_EQ(config->sas[1].sa.backend, crypto::Backend::openssl);
  EXPECT_TRUE(config->sas[1].sa.esn);
  EXPECT_EQ(config->sas[1].sa.replay_window, 4096u);
  ASSERT_EQ(config->policies.size(), 1u);
  EXPECT_EQ(config->policies[0].selector.length, 32);
}

void expect_error(const std::string& from, const std::string& to, const std::string& expected) {
  SCOPED_TRACE(from + " -> " + to);
  std::string text = kGood;
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::string error;
  EXPECT_FALSE(parse_dataplane_config(text, "lab.toml", &error));
  EXPECT_NE(error.find(expected), std::string::npos) << "got: " << error;
}

TEST(DataplaneConfig, ErrorsNameFileLineAndKey) {
  expect_error("workers = 2", "workers = 0", "lab.toml:3: dataplane.workers: expected an integer");
  expect_error("workers = 2", "wrokers = 2", "dataplane.wrokers: unknown key");
  expect_error("address = \"10.1.0.1/24\"", "address = \"10.1.0.1/33\"",
               "dataplane.inside.address: '10.1.0.1/33' is not ADDRESS/PREFIX");
  expect_error("transform = \"aes256gcm16\"", "transform = \"des\"",
               "dataplane.sa[0].transform: 'des' is not one of");
  expect_error("salt = \"0a0b0c0d\"", "salt = \"0a0b0c\"", "needs a 4-byte salt");
  expect_error("key = \"000102030405060708090a0b0c0d0e0f\"", "key = \"zz\"",
               "dataplane.sa[1].key: expected hex digits");
  expect_error("direction = \"inbound\"", "direction = \"sideways\"",
               "expected inbound or outbound");
  expect_error("device = \"net_af_packet1,iface=gw-in,qpairs=2\"\n", "",
               "dataplane.inside.device: missing (required)");
  std::string error;
  EXPECT_FALSE(parse_dataplane_config("[ike]\nport = 500\n", "other.toml", &error));
  EXPECT_EQ(error, "other.toml:1: dataplane: missing table [dataplane]");
  expect_error("workers = 2", "workers = [", "lab.toml:");
}

}  // namespace
}  // namespace traverse::engine

namespace traverse::engine {
namespace {

// The example shipped in conf/ must stay valid.
TEST(DataplaneConfig, ShippedExampleLoads) {
  const char* source = std::getenv("TRAVERSE_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "set TRAVERSE_SOURCE_DIR";
  std::string error;
  auto config = load_dataplane_config(std::string(source) + "/conf/dataplane-lab.toml", &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->sas.size(), 2u);
  EXPECT_EQ(config->outside.tap, "tv-outside");
}

}  // namespace
}  // namespace traverse::engine
