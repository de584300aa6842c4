// IKE SA rekeying between two in-process managers (RFC 7296 1.3.2, 2.18):
// from either side, by operator or lifetime; the children move to the new
// IKE SA, the old one is deleted, the new one carries the exchanges.
#include <gtest/gtest.h>

#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

class IkeRekeyTest : public IkePairTest, public ::testing::WithParamInterface<bool> {};

TEST_P(IkeRekeyTest, ChildrenMoveAndTheOldSaGoes) {
  const bool from_client = GetParam();
  establish();
  if (HasFatalFailure())
    return;
  client_sa()->request_create_child();
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(2, "before the rekey");
  const uint64_t old_client_id = client_sa()->id();
  const uint64_t old_gateway_id = gateway_sa()->id();
  const uint64_t old_spi_i = client_sa()->spi_i();
  const uint64_t old_spi_r = client_sa()->spi_r();
  const auto dataplane_before = client_host.backend.sas().size();
  const std::size_t adds_before = client_host.backend.adds + gateway_host.backend.adds;

  IkeSaManager& initiator = from_client ? *client : *gateway;
  ASSERT_TRUE(initiator.rekey_ike(from_client ? old_client_id : old_gateway_id));
  ASSERT_TRUE(net.deliver_one());  // CREATE_CHILD_SA (IKE) request
  ASSERT_TRUE(net.deliver_one());  // its response; the initiator deletes the old SA
  EXPECT_EQ(client->ike_sa_count(), 2u);
  EXPECT_EQ(gateway->ike_sa_count(), 2u);
  net.deliver_all();  // the delete of the old IKE SA and its answer
  tick();
  EXPECT_EQ(client->ike_sa_count(), 1u);
  EXPECT_EQ(gateway->ike_sa_count(), 1u);
  EXPECT_EQ(client->find(old_client_id), nullptr);
  EXPECT_EQ(gateway->find(old_gateway_id), nullptr);
  EXPECT_PAIR_CONSISTENT(2, "after the IKE rekey");
  EXPECT_NE(client_sa()->spi_i(), old_spi_i);
  EXPECT_NE(client_sa()->spi_r(), old_spi_r);
  EXPECT_EQ(client_sa()->role(), from_client ? Role::initiator : Role::responder);
  // The child SAs were not touched in the dataplane.
  EXPECT_EQ(client_host.backend.sas().size(), dataplane_before);
  EXPECT_EQ(client_host.backend.adds + gateway_host.backend.adds, adds_before);
  EXPECT_EQ(client_host.backend.deletes + gateway_host.backend.deletes, 0u);
  EXPECT_EQ(initiator.counters().get("ike_rekeyed"), 1u);

  // The new IKE SA works: its message IDs start at 0 and a child rekey runs on it.
  ASSERT_TRUE(client->rekey_child(client_sa()->children().begin()->first));
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(2, "child rekey on the new IKE SA");
  ASSERT_TRUE(gateway->terminate_ike(gateway_sa()->id()));
  net.deliver_all();
  tick();
  expect_nothing_left();
}

TEST_P(IkeRekeyTest, LifetimeTriggersTheRekey) {
  const bool from_client = GetParam();
  (from_client ? client_config : gateway_config)->ike_lifetime = std::chrono::seconds(100);
  establish();
  if (HasFatalFailure())
    return;
  const uint64_t old_spi_i = client_sa()->spi_i();
  run_for(std::chrono::seconds(101), std::chrono::seconds(1));
  EXPECT_PAIR_CONSISTENT(1, "after the lifetime");
  EXPECT_NE(client_sa()->spi_i(), old_spi_i);
  EXPECT_EQ((from_client ? *client : *gateway).counters().get("ike_rekeyed"), 1u);
}

INSTANTIATE_TEST_SUITE_P(FromEitherSide, IkeRekeyTest, ::testing::Bool(), side_name);

// Both sides rekey the IKE SA at once. Each answers the other's request with
// TEMPORARY_FAILURE while its own is in flight and retries later; the pair
// must not repeat the collision forever, and must end with one new IKE SA.
TEST_F(IkePairTest, SimultaneousIkeRekeyConverges) {
  establish();
  if (HasFatalFailure())
    return;
  const uint64_t old_spi_i = client_sa()->spi_i();
  ASSERT_TRUE(client->rekey_ike(client_sa()->id()));
  ASSERT_TRUE(gateway->rekey_ike(gateway_sa()->id()));
  ASSERT_EQ(net.in_flight().size(), 2u);
  net.deliver_all();
  run_for(std::chrono::minutes(10), std::chrono::seconds(1));
  EXPECT_PAIR_CONSISTENT(1, "after colliding IKE rekeys");
  EXPECT_NE(client_sa()->spi_i(), old_spi_i) << "the IKE SA was never rekeyed";
  EXPECT_EQ(client->counters().get("ike_rekeyed") + gateway->counters().get("ike_rekeyed"), 1u);
}

TEST_F(IkePairTest, ChildLifetimeTriggersTheRekey) {
  client_config->child_lifetime = std::chrono::seconds(100);
  establish();
  if (HasFatalFailure())
    return;
  const uint32_t old_spi = client_sa()->children().begin()->second.spi_in;
  run_for(std::chrono::seconds(101), std::chrono::seconds(1));
  EXPECT_PAIR_CONSISTENT(1, "after the child lifetime");
  EXPECT_NE(client_sa()->children().begin()->second.spi_in, old_spi);
  EXPECT_EQ(client->counters().get("child_rekeyed"), 1u);
}

}  // namespace
}  // namespace traverse::ike::testing
