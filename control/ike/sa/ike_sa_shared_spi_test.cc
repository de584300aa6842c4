// Two clients choose the same inbound SPI, so the gateway holds two outbound
// SAs with one SPI. The dataplane names outbound SAs by (SPI, cookie); these
// tests check that the gateway's state machine installs, rekeys, expires and
// removes each of them by its own name and never touches the other.
#include <gtest/gtest.h>

#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

constexpr uint32_t kSharedSpi = 0x4242;

class SharedSpiTest : public IkePairTest {
 protected:
  SharedSpiTest() {
    client_host.child_spis = {kSharedSpi};
    second_host.child_spis = {kSharedSpi};
    second_config = std::make_shared<PeerConfig>(*client_config);
    second_config->local_id = parse_identity("fqdn:second.traverse.lab").value();
  }
  ~SharedSpiTest() override { second.reset(); }

  // Both clients connected, each with one child whose gateway-side outbound
  // SPI is kSharedSpi.
  void connect_both() {
    establish();
    ASSERT_FALSE(HasFatalFailure());
    second = std::make_unique<IkeSaManager>(second_host, client_settings);
    net.attach(second_endpoint.address(), second.get());
    second->initiate(second_config, second_endpoint);
    net.deliver_all();
    first_ike = gateway_sa_of("client.traverse.lab");
    second_ike = gateway_sa_of("second.traverse.lab");
    ASSERT_NE(first_ike, nullptr);
    ASSERT_NE(second_ike, nullptr);
    first_child = only_child(*first_ike);
    second_child = only_child(*second_ike);
    ASSERT_NE(first_child, 0u);
    ASSERT_NE(second_child, 0u);
    ASSERT_EQ(first_ike->children().at(first_child).spi_out, kSharedSpi);
    ASSERT_EQ(second_ike->children().at(second_child).spi_out, kSharedSpi);
  }

  // The gateway's established IKE SA whose peer identity mentions `name`.
  IkeSa* gateway_sa_of(const std::string& name) {
    IkeSa* found = nullptr;
    gateway->for_each([&](const IkeSa& sa) {
      if (sa.state() == IkeState::established &&
          sa.remote_id_text().find(name) != std::string::npos)
        found = gateway->find(sa.id());
    });
    return found;
  }

  // The gateway dataplane's outbound SAs with kSharedSpi: cookie -> remote.
  std::map<uint64_t, asio::ip::address> shared_outbound() const {
    std::map<uint64_t, asio::ip::address> out;
    for (const auto& [key, sa] : gateway_host.backend.sas()) {
      if (!key.inbound && key.spi == kSharedSpi)
        out[key.cookie] = sa.remote.address();
    }
    return out;
  }

  FakeHost second_host{net, "second"};
  Endpoint second_endpoint{asio::ip::make_address("192.0.2.11"), 500};
  std::shared_ptr<PeerConfig> second_config;
  std::unique_ptr<IkeSaManager> second;
  IkeSa* first_ike = nullptr;
  IkeSa* second_ike = nullptr;
  uint64_t first_child = 0;
  uint64_t second_child = 0;
};

TEST_F(SharedSpiTest, BothOutboundSasAreInstalledUnderTheirOwnCookies) {
  connect_both();
  if (HasFatalFailure())
    return;
  const auto installed = shared_outbound();
  ASSERT_EQ(installed.size(), 2u) << "the second SA replaced or lost the first";
  EXPECT_EQ(installed.at(first_child), client_endpoint.address());
  EXPECT_EQ(installed.at(second_child), second_endpoint.address());
  // Each child's policy names its own SA.
  std::map<uint64_t, std::size_t> policies;
  for (const InstalledPolicy& p : gateway_host.backend.policies()) {
    EXPECT_EQ(p.sa.spi, kSharedSpi);
    ++policies[p.sa.cookie];
  }
  EXPECT_EQ(policies[first_child], first_ike->children().at(first_child).remote_ts.size());
  EXPECT_EQ(policies[second_child], second_ike->children().at(second_child).remote_ts.size());
  EXPECT_TRUE(gateway_host.ipsec().counters({kSharedSpi, false, second_child}).has_value());
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
}

TEST_F(SharedSpiTest, SoftLifetimeRekeysTheChildTheEventNames) {
  connect_both();
  if (HasFatalFailure())
    return;
  // The second client's SA (the higher IKE SA id) reached its soft lifetime.
  gateway->on_child_soft_lifetime({kSharedSpi, false, second_child});
  net.deliver_all();
  EXPECT_EQ(only_child(*first_ike), first_child) << "the other peer's child was rekeyed";
  const uint64_t fresh = only_child(*second_ike);
  ASSERT_NE(fresh, 0u);
  EXPECT_NE(fresh, second_child) << "the named child was not rekeyed";
  const auto installed = shared_outbound();
  EXPECT_EQ(installed.size(), 1u);
  EXPECT_EQ(installed.count(first_child), 1u);
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
}

TEST_F(SharedSpiTest, HardLifetimeExpiresOnlyTheChildTheEventNames) {
  connect_both();
  if (HasFatalFailure())
    return;
  gateway->on_child_hard_lifetime({kSharedSpi, false, second_child});
  net.deliver_all();
  EXPECT_EQ(only_child(*first_ike), first_child);
  EXPECT_TRUE(second_ike->children().empty());
  const auto installed = shared_outbound();
  ASSERT_EQ(installed.size(), 1u);
  EXPECT_EQ(installed.count(first_child), 1u);
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
}

TEST_F(SharedSpiTest, TerminatingOnePeerLeavesTheOtherPeersSa) {
  connect_both();
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(gateway->terminate_ike(first_ike->id()));
  net.deliver_all();
  tick();
  const auto installed = shared_outbound();
  ASSERT_EQ(installed.size(), 1u);
  EXPECT_EQ(installed.count(second_child), 1u);
  ASSERT_EQ(gateway_host.backend.policies().size(),
            second_ike->children().at(second_child).remote_ts.size());
  for (const InstalledPolicy& p : gateway_host.backend.policies())
    EXPECT_EQ(p.sa.cookie, second_child);
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
}

}  // namespace
}  // namespace traverse::ike::testing
