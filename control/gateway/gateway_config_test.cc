#include "control/gateway/gateway_config.hh"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace traverse::gateway {
namespace {

// The smallest valid file; tests append one broken table or key.
const std::string kBase =
    "[identity]\n"                    // line 1
    "id = \"gw.traverse.lab\"\n"      // line 2
    "[[pool]]\n"                      // line 3
    "name = \"office\"\n"             // line 4
    "addresses = \"10.99.0.0/24\"\n"  // line 5
    "[[connection]]\n"                // line 6
    "name = \"rw\"\n"                 // line 7
    "psk = \"secret\"\n"              // line 8
    "pool = \"office\"\n";            // line 9

// Expects text to fail with "test.toml:LINE: KEY: ..." containing needle.
void expect_error(const std::string& text, int line, const std::string& key,
                  const std::string& needle) {
  auto config = parse_gateway_config(text, "test.toml");
  ASSERT_FALSE(config) << "accepted:\n" << text;
  const std::string prefix = "test.toml:" + std::to_string(line) + ": " + key + ": ";
  EXPECT_EQ(config.error().rfind(prefix, 0), 0u) << config.error() << "\nwanted prefix " << prefix;
  EXPECT_NE(config.error().find(needle), std::string::npos) << config.error();
}

TEST(GatewayConfig, ExampleConfigParses) {
  const char* path = std::getenv("TRAVERSE_EXAMPLE_CONFIG");
  ASSERT_NE(path, nullptr) << "meson sets TRAVERSE_EXAMPLE_CONFIG";
  auto config = load_gateway_config(path);
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->dataplane_api_socket, "/run/traverse/dataplane.sock");
  EXPECT_EQ(config->control.control_socket, "/run/traverse/control.sock");
  ASSERT_EQ(config->control.listen.size(), 1u);
  EXPECT_EQ(config->control.listen[0].to_string(), "192.0.2.1");
  ASSERT_EQ(config->pools.size(), 2u);
  EXPECT_EQ(config->pools[0].addresses.to_string(), "10.99.0.0/24");
  EXPECT_EQ(config->pools[0].split_dns[0], "corp.traverse.lab");
  EXPECT_EQ(config->pools[1].addresses.address.version, 6);
  ASSERT_EQ(config->connections.size(), 2u);
  const ConnectionSettings& rw = config->connections[0];
  EXPECT_TRUE(rw.remote_any);
  EXPECT_EQ(rw.ike_proposals.size(), 3u);
  EXPECT_EQ(proposal_to_string(rw.ike_proposals[2]), "aes256-prfsha256-sha256-modp2048");
  EXPECT_EQ(rw.esp_proposals.size(), 3u);
  EXPECT_TRUE(rw.remote_ts[0].dynamic);
  EXPECT_EQ(std::string(rw.psk.view().begin(), rw.psk.view().end()),
            "change-me-to-a-long-random-secret");
  EXPECT_EQ(rw.pools, (std::vector<std::string>{"office", "office6"}));
  const ConnectionSettings* branch = config->find_connection("branch");
  ASSERT_NE(branch, nullptr);
  EXPECT_TRUE(branch->initiate);
  EXPECT_EQ(branch->remote_addresses[0].to_string(), "198.51.100.7/32");
  EXPECT_EQ(branch->dpd_interval_s, 30u);  // inherited from [control]
}

TEST(GatewayConfig, DefaultsFillTheMinimalFile) {
  auto config = parse_gateway_config(kBase, "test.toml");
  ASSERT_TRUE(config) << config.error();
  const ConnectionSettings& c = config->connections[0];
  EXPECT_EQ(config->control.ike_port, 500);
  EXPECT_EQ(c.ike_lifetime_s, 14400u);
  EXPECT_EQ(c.ike_proposals.size(), 3u);
  EXPECT_EQ(c.esp_proposals.size(), 3u);
  EXPECT_EQ(c.local_ts[0].cidr.to_string(), "0.0.0.0/0");
  EXPECT_TRUE(c.remote_ts[0].dynamic);
  EXPECT_TRUE(c.remote_any);
  EXPECT_EQ(c.pools, std::vector<std::string>{"office"});  // a single name
}

TEST(GatewayConfig, SyntaxErrorNamesTheLine) {
  auto config = parse_gateway_config(kBase + "[control\n", "test.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().rfind("test.toml:10: ", 0), 0u) << config.error();
}

TEST(GatewayConfig, UnknownKeys) {
  expect_error(kBase + "pskk = \"x\"\n", 10, "connection[0].pskk", "unknown key");
  expect_error("[control]\nike_prot = 500\n", 2, "control.ike_prot", "unknown key");
  expect_error("[contrl]\n", 1, "contrl", "unknown key");
}

TEST(GatewayConfig, RangesAndTypes) {
  expect_error("[control]\nike_port = 70000\n", 2, "control.ike_port", "1..65535");
  expect_error("[control]\nnatt_port = \"4500\"\n", 2, "control.natt_port", "integer");
  expect_error("[control]\nike_port = 4500\n", 1, "control.natt_port", "must differ");
  expect_error("[control]\nlog_level = \"loud\"\n", 2, "control.log_level",
               "error | warning | info | debug");
  expect_error("[control]\nhalf_open_limit = 10\ncookie_threshold = 11\n", 3,
               "control.cookie_threshold", "half_open_limit");
  expect_error("[control]\nforce_encap = 1\n", 2, "control.force_encap", "true or false");
  expect_error("[control]\nlisten = [\"192.0.2.300\"]\n", 2, "control.listen", "192.0.2.300");
  expect_error("[control]\ncontrol_socket = \"relative.sock\"\n", 2, "control.control_socket",
               "absolute path");
  expect_error(kBase + "remote_port = 0\n", 10, "connection[0].remote_port", "1..65535");
  expect_error(kBase + "ike_lifetime_s = 10\n", 10, "connection[0].ike_lifetime_s", "60..");
}

TEST(GatewayConfig, PoolErrors) {
  expect_error(kBase + "[[pool]]\nname = \"x\"\naddresses = \"10.99.0.5/24\"\n", 12,
               "pool[1].addresses", "did you mean 10.99.0.0/24");
  expect_error(kBase + "[[pool]]\nname = \"x\"\naddresses = \"10.99.0.128/25\"\n", 12,
               "pool[1].addresses", "overlaps pool 'office'");
  expect_error(kBase + "[[pool]]\nname = \"office\"\naddresses = \"10.98.0.0/24\"\n", 11,
               "pool[1].name", "duplicate name 'office'");
  expect_error(kBase + "[[pool]]\nname = \"x\"\n", 10, "pool[1].addresses", "missing");
  expect_error(kBase + "[[pool]]\nname = \"x\"\naddresses = \"10.8.0.0/24\"\ndns = [\"dns\"]\n", 13,
               "pool[1].dns", "'dns' is not an IPv4 or IPv6 address");
  expect_error(kBase + "[[pool]]\nname = \"x y\"\naddresses = \"10.8.0.0/24\"\n", 11,
               "pool[1].name", "A-Z a-z 0-9");
  expect_error("[pool]\nname = \"x\"\n", 1, "pool", "expected [[pool]]");
}

TEST(GatewayConfig, ConnectionReferencesAndCredentials) {
  expect_error(kBase + "[[connection]]\nname = \"b\"\npsk = \"s\"\npool = \"lab\"\n", 13,
               "connection[1].pool", "no [[pool]] named 'lab' (defined: office)");
  const std::string v6 = "[[pool]]\nname = \"v6\"\naddresses = \"fd00:99::/64\"\n";
  expect_error(
      kBase + v6 + "[[connection]]\nname = \"b\"\npsk = \"s\"\npool = [\"office\", \"x\"]\n", 16,
      "connection[1].pool", "no [[pool]] named 'x' (defined: office, v6)");
  expect_error(kBase + "[[pool]]\nname = \"o2\"\naddresses = \"10.98.0.0/24\"\n" +
                   "[[connection]]\nname = \"b\"\npsk = \"s\"\npool = [\"office\", \"o2\"]\n",
               16, "connection[1].pool", "'office' and 'o2' are both IPv4 pools");
  expect_error(kBase + "[[connection]]\nname = \"rw\"\npsk = \"s\"\n", 11, "connection[1].name",
               "duplicate name 'rw'");
  expect_error(kBase + "[[connection]]\nname = \"b\"\n", 10, "connection[1].psk",
               "set psk or psk_file");
  expect_error(kBase + "[[connection]]\nname = \"b\"\npsk = \"s\"\npsk_file = \"f\"\n", 13,
               "connection[1].psk_file", "not both");
  expect_error(kBase + "[[connection]]\nname = \"b\"\npsk = \"\"\n", 12, "connection[1].psk",
               "empty");
  expect_error(kBase + "auth = \"cert\"\n", 10, "connection[0].auth", "psk | pubkey");
  expect_error(kBase + "auth = \"pubkey\"\nremote_auth = \"pubkey\"\n", 8, "connection[0].psk",
               "unused");
  expect_error(
      kBase + "[[connection]]\nname = \"b\"\nauth = \"pubkey\"\nremote_auth = \"pubkey\"\n", 12,
      "connection[1].auth", "identity.certificate");
  expect_error(kBase + "ike_proposals = [\"aes128gcm16-x25519\"]\n", 10,
               "connection[0].ike_proposals", "explicit PRF");
  expect_error(kBase + "esp_proposals = [\"aes128-sha512\"]\n", 10, "connection[0].esp_proposals",
               "not implemented by the dataplane");
  expect_error(kBase + "esp_proposals = []\n", 10, "connection[0].esp_proposals", "at least one");
  expect_error(kBase + "remote_ts = [\"everything\"]\n", 10, "connection[0].remote_ts",
               "\"dynamic\" or a CIDR");
  expect_error(kBase + "local_id = \"ip:1.2.3\"\n", 10, "connection[0].local_id",
               "not an IPv4 or IPv6 address");
  expect_error("[[connection]]\nname = \"b\"\npsk = \"s\"\n", 1, "connection[0].local_id",
               "identity.id");
}

TEST(GatewayConfig, CertificateAndKeyGoTogether) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("traverse-config-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "certs");
  std::ofstream(dir / "certs" / "gw.pem") << "not parsed here\n";
  std::ofstream(dir / "secret.psk") << "from-a-file\n";
  const std::string origin = (dir / "gateway.toml").string();
  auto only_cert = parse_gateway_config("[identity]\ncertificate = \"certs/gw.pem\"\n", origin);
  ASSERT_FALSE(only_cert);
  EXPECT_EQ(only_cert.error(), origin +
                                   ":1: identity.private_key: certificate and private_key go "
                                   "together: set both or neither");
  auto missing = parse_gateway_config(
      "[identity]\ncertificate = \"certs/gw.pem\"\nprivate_key = \"certs/none.key\"\n", origin);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), origin + ":3: identity.private_key: cannot read '" +
                                 (dir / "certs" / "none.key").string() + "'");
  // Relative names resolve against the file's directory.
  auto psk_file = parse_gateway_config(
      "[identity]\nid = \"gw\"\n[[connection]]\nname = \"c\"\npsk_file = \"secret.psk\"\n", origin);
  ASSERT_TRUE(psk_file) << psk_file.error();
  const auto& psk = psk_file->connections[0].psk;
  EXPECT_EQ(std::string(psk.view().begin(), psk.view().end()), "from-a-file");
  std::filesystem::remove_all(dir);
}

TEST(GatewayConfig, InitiateNeedsOneConcreteAddress) {
  expect_error(kBase + "initiate = true\n", 6, "connection[0].remote_addresses",
               "exactly one remote address");
  expect_error(kBase + "initiate = true\nremote_addresses = [\"198.51.100.0/24\"]\n", 11,
               "connection[0].remote_addresses", "exactly one remote address");
  expect_error(kBase + "initiate = true\nremote_addresses = [\"198.51.100.1\", \"198.51.100.2\"]\n",
               11, "connection[0].remote_addresses", "exactly one remote address");
  expect_error(kBase + "remote_addresses = [\"%any\", \"198.51.100.1\"]\n", 10,
               "connection[0].remote_addresses", "%any");
  auto ok = parse_gateway_config(kBase + "initiate = true\nremote_addresses = \"2001:db8::1\"\n",
                                 "test.toml");
  EXPECT_TRUE(ok) << ok.error();
}

TEST(GatewayConfig, MissingFile) {
  auto config = load_gateway_config("/nonexistent/gateway.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error(), "/nonexistent/gateway.toml: cannot open the configuration file");
}

}  // namespace
}  // namespace traverse::gateway
