// NAT traversal between two in-process managers (RFC 7296 2.23, RFC 3948):
// detection, the move to port 4500, UDP-encapsulated children, and following
// the client when its NAT mapping changes.
#include <gtest/gtest.h>

#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

class NatPairTest : public IkePairTest {
 protected:
  NatPairTest() {
    nat_in_path = true;
    net.nat(client_endpoint.address(), outside);
    // Behind a NAT the client's own address means nothing to the gateway
    // (its "dynamic" selector is the NAT's address): remote access leases one.
    client_config->request_virtual_ip = true;
    gateway_config->pools = {"vpn"};
    gateway_host.office_mode.addresses = {vip};
  }
  const asio::ip::address outside = asio::ip::make_address("198.51.100.7");
  const asio::ip::address vip = asio::ip::make_address("10.8.0.9");
};

TEST_F(NatPairTest, DetectsTheNatAndEncapsulates) {
  establish();
  if (HasFatalFailure())
    return;
  EXPECT_PAIR_CONSISTENT(1, "through the NAT");
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  EXPECT_TRUE(c->local_behind_nat());
  EXPECT_FALSE(c->remote_behind_nat());
  EXPECT_TRUE(g->remote_behind_nat());
  EXPECT_FALSE(g->local_behind_nat());
  EXPECT_TRUE(c->encap());
  EXPECT_TRUE(g->encap());
  // IKE_AUTH and everything after it run on port 4500.
  EXPECT_EQ(c->local().port(), 4500);
  EXPECT_EQ(c->remote().port(), 4500);
  EXPECT_EQ(g->local().port(), 4500);
  EXPECT_EQ(g->remote(), Endpoint(outside, 40001));
  ASSERT_GE(net.history().size(), 4u);
  EXPECT_EQ(net.history()[2].to.port(), 4500);
  for (const auto* backend : {&client_host.backend, &gateway_host.backend}) {
    for (const auto& [key, sa] : backend->sas()) {
      EXPECT_TRUE(sa.udp_encap);
      EXPECT_EQ(sa.local.port(), 4500);
    }
  }
  const ChildSa& gateway_child = g->children().begin()->second;
  EXPECT_EQ(gateway_host.backend.find(gateway_child.spi_out, false)->remote,
            Endpoint(outside, 40001));
  EXPECT_EQ(gateway_child.remote_ts, std::vector<TsRange>{TsRange::host(vip)});
}

TEST_F(NatPairTest, FollowsANewNatMapping) {
  client_config->dpd_interval = std::chrono::seconds(10);
  establish();
  if (HasFatalFailure())
    return;
  net.rebind_nat();
  run_for(std::chrono::seconds(11), std::chrono::seconds(1));  // a liveness check goes out
  EXPECT_EQ(client->counters().get("ike_liveness_sent"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_peer_moved"), 1u);
  IkeSa* g = gateway_sa();
  ASSERT_NE(g, nullptr);
  const Endpoint moved(outside, 40002);
  EXPECT_EQ(g->remote(), moved);
  for (const auto& [key, sa] : gateway_host.backend.sas())
    EXPECT_EQ(sa.remote, moved) << "SA " << sa.spi << " still sends to the old mapping";
  EXPECT_PAIR_CONSISTENT(1, "after the NAT rebinding");
  // And the exchanges keep working over the new mapping.
  ASSERT_TRUE(gateway->rekey_child(only_child(*g)));
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(1, "a gateway-initiated rekey after the move");
}

}  // namespace
}  // namespace traverse::ike::testing
