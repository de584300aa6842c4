// IKE SA rekeying between two in-process managers (RFC 7296 1.3.2, 2.18):
// from either side, by operator or lifetime; the children move to the new
// IKE SA, the old one is deleted, the new one carries the exchanges. Both
// ends rekeying at once (2.8.2) end with one new IKE SA, whichever nonces
// and whichever message is lost.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

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

// --- Simultaneous IKE SA rekeying (RFC 7296 2.8.2) ---

// One pair of colliding rekeys: the nonces each side hands out, in order
// (its Ni, then its Nr for the peer's exchange), and which exchange holds the
// lowest of the four, i.e. made the redundant IKE SA.
struct CollisionNonces {
  const char* name;
  uint8_t client_ni, gateway_nr;  // the client's exchange
  uint8_t gateway_ni, client_nr;  // the gateway's exchange
  bool client_exchange_redundant;
};

const CollisionNonces kLowestIsClientNi{"LowestIsClientNi", 0x10, 0x70, 0x50, 0x60, true};
const CollisionNonces kLowestIsGatewayNrInClientExchange{
    "LowestIsGatewayNr", 0x40, 0x10, 0x50, 0x60, true};
const CollisionNonces kLowestIsGatewayNi{"LowestIsGatewayNi", 0x40, 0x70, 0x10, 0x60, false};
const CollisionNonces kLowestIsClientNrInGatewayExchange{
    "LowestIsClientNr", 0x40, 0x70, 0x50, 0x10, false};
// Both exchanges share the lowest nonce: the next one decides, the same way on both ends.
const CollisionNonces kTieBrokenByTheOtherNonce{
    "TieBrokenByTheOtherNonce", 0x10, 0x30, 0x10, 0x20, false};

void PrintTo(const CollisionNonces& n, std::ostream* os) {
  *os << n.name;
}

std::string nonces_name(const ::testing::TestParamInfo<CollisionNonces>& info) {
  return info.param.name;
}

using SpiPairs = std::set<std::pair<uint32_t, uint32_t>>;  // (in, out) of each child

SpiPairs child_spis(const IkeSa& sa) {
  SpiPairs out;
  for (const auto& [id, child] : sa.children())
    out.emplace(child.spi_in, child.spi_out);
  return out;
}

// Establishes a pair with two children, then has both ends rekey the IKE SA
// at once; checks that they end with one new IKE SA holding the same children.
class IkeRekeyCollisionBase : public IkePairTest {
 protected:
  void start_collision(const CollisionNonces& n) {
    establish();
    if (HasFatalFailure())
      return;
    client_sa()->request_create_child();
    net.deliver_all();
    expect_consistent(2);
    if (HasFatalFailure())
      return;
    old_client_id_ = client_sa()->id();
    old_gateway_id_ = gateway_sa()->id();
    old_spi_i_ = client_sa()->spi_i();
    old_spi_r_ = client_sa()->spi_r();
    client_children_ = child_spis(*client_sa());
    gateway_children_ = child_spis(*gateway_sa());
    dataplane_calls_ = client_host.backend.adds + client_host.backend.deletes +
                       gateway_host.backend.adds + gateway_host.backend.deletes;
    client_host.nonces = {Bytes(32, n.client_ni), Bytes(32, n.client_nr)};
    gateway_host.nonces = {Bytes(32, n.gateway_ni), Bytes(32, n.gateway_nr)};
  }

  // After the dust settled: one IKE SA on each end, from the expected
  // exchange, with the children as they were and the dataplane untouched.
  void expect_settled(bool client_exchange_survives) {
    client_host.nonces.clear();
    gateway_host.nonces.clear();
    EXPECT_EQ(client->ike_sa_count(), 1u) << "the old or the redundant IKE SA is left";
    EXPECT_EQ(gateway->ike_sa_count(), 1u) << "the old or the redundant IKE SA is left";
    EXPECT_PAIR_CONSISTENT(2, "after the IKE rekey collision");
    EXPECT_EQ(client->find(old_client_id_), nullptr);
    EXPECT_EQ(gateway->find(old_gateway_id_), nullptr);
    EXPECT_NE(client_sa()->spi_i(), old_spi_i_);
    EXPECT_NE(client_sa()->spi_r(), old_spi_r_);
    // The survivor is the IKE SA the client made as initiator, or the one it
    // made answering the gateway.
    EXPECT_EQ(client_sa()->role(), client_exchange_survives ? Role::initiator : Role::responder);
    EXPECT_EQ(child_spis(*client_sa()), client_children_);
    EXPECT_EQ(child_spis(*gateway_sa()), gateway_children_);
    EXPECT_EQ(client_host.backend.adds + client_host.backend.deletes + gateway_host.backend.adds +
                  gateway_host.backend.deletes,
              dataplane_calls_)
        << "the child SAs were touched in the dataplane";
    // The children are found through the new IKE SA.
    for (const auto& [id, child] : client_sa()->children()) {
      EXPECT_EQ(client->find_by_child(id), client_sa());
    }
    for (const auto& [id, child] : gateway_sa()->children()) {
      EXPECT_EQ(gateway->find_by_child(id), gateway_sa());
    }
  }

  // The survivor carries exchanges, and nothing left behind fires later.
  void expect_survivor_works() {
    const uint64_t failed =
        client->counters().get("ike_failed") + gateway->counters().get("ike_failed");
    ASSERT_TRUE(gateway->rekey_child(gateway_sa()->children().begin()->first));
    net.deliver_all();
    EXPECT_PAIR_CONSISTENT(2, "child rekey on the surviving IKE SA");
    run_for(std::chrono::minutes(2), std::chrono::seconds(1));
    EXPECT_PAIR_CONSISTENT(2, "two minutes later");
    EXPECT_EQ(client->counters().get("ike_failed") + gateway->counters().get("ike_failed"), failed);
    ASSERT_TRUE(client->terminate_ike(client_sa()->id()));
    net.deliver_all();
    tick();
    expect_nothing_left();
  }

  uint64_t old_client_id_ = 0, old_gateway_id_ = 0;
  uint64_t old_spi_i_ = 0, old_spi_r_ = 0;
  SpiPairs client_children_, gateway_children_;
  std::size_t dataplane_calls_ = 0;
};

class IkeRekeyCollisionTest : public IkeRekeyCollisionBase,
                              public ::testing::WithParamInterface<CollisionNonces> {};

// Both requests cross on the wire; each end answers the other's (2.8.2, not
// TEMPORARY_FAILURE), then each response completes a second new IKE SA.
TEST_P(IkeRekeyCollisionTest, CrosswiseRekeysLeaveOneNewIkeSa) {
  const CollisionNonces& n = GetParam();
  start_collision(n);
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(client->rekey_ike(old_client_id_));
  ASSERT_TRUE(gateway->rekey_ike(old_gateway_id_));
  ASSERT_EQ(net.in_flight().size(), 2u);
  ASSERT_TRUE(net.deliver_one());  // the client's request reaches the gateway
  ASSERT_TRUE(net.deliver_one());  // the gateway's request reaches the client
  EXPECT_EQ(client->counters().get("ike_rekey_collision"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_rekey_collision"), 1u);
  EXPECT_EQ(client->ike_sa_count(), 2u);  // the old SA and the gateway's new one
  EXPECT_EQ(gateway->ike_sa_count(), 2u);
  ASSERT_TRUE(net.deliver_one());         // the gateway's answer reaches the client
  ASSERT_TRUE(net.deliver_one());         // the client's answer reaches the gateway
  EXPECT_EQ(client->ike_sa_count(), 3u);  // the old SA and both new ones
  EXPECT_EQ(gateway->ike_sa_count(), 3u);
  net.deliver_all();  // the deletes of the redundant and of the old IKE SA
  tick();
  expect_settled(!n.client_exchange_redundant);
  if (HasFatalFailure())
    return;

  // What happened, as the counters tell: the initiator of the redundant
  // exchange deleted its new SA, the other end deleted the old one.
  IkeSaManager& redundant_side = n.client_exchange_redundant ? *client : *gateway;
  IkeSaManager& surviving_side = n.client_exchange_redundant ? *gateway : *client;
  EXPECT_EQ(redundant_side.counters().get("ike_rekey_redundant_deleted"), 1u);
  EXPECT_EQ(surviving_side.counters().get("ike_rekey_redundant_deleted"), 0u);
  EXPECT_EQ(surviving_side.counters().get("ike_rekeyed"), 1u);
  EXPECT_EQ(redundant_side.counters().get("ike_rekeyed"), 0u);
  for (IkeSaManager* m : {client.get(), gateway.get()}) {
    EXPECT_EQ(m->counters().get("ike_rekeyed_by_peer"), 1u);
    EXPECT_EQ(m->counters().get("ike_deleted_by_peer"), 1u);  // the old or the redundant SA
    EXPECT_EQ(m->counters().get("ike_rekey_redundant_dropped"), 0u);
    EXPECT_EQ(m->counters().get("ike_retransmits"), 0u);
    EXPECT_EQ(m->counters().get("ike_failed"), 0u);
  }
  expect_survivor_works();
}

INSTANTIATE_TEST_SUITE_P(Nonces, IkeRekeyCollisionTest,
                         ::testing::Values(kLowestIsClientNi, kLowestIsGatewayNrInClientExchange,
                                           kLowestIsGatewayNi, kLowestIsClientNrInGatewayExchange,
                                           kTieBrokenByTheOtherNonce),
                         nonces_name);

// One of the four messages of the collision is lost. A lost request means
// the other exchange's IKE SA survives whatever the nonces; a lost answer is
// retransmitted when the protocol still needs it, or the end that made the
// redundant SA unseen by its initiator drops it once the old SA is deleted.
enum class Lost { client_request, gateway_request, answer_to_client, answer_to_gateway };

struct LostCase {
  Lost lost;
  bool client_exchange_redundant;
};

void PrintTo(const LostCase& c, std::ostream* os) {
  *os << "lost " << static_cast<int>(c.lost)
      << (c.client_exchange_redundant ? ", client's exchange redundant"
                                      : ", gateway's exchange redundant");
}

std::string lost_case_name(const ::testing::TestParamInfo<LostCase>& info) {
  static const char* const kLost[] = {"ClientRequest", "GatewayRequest", "AnswerToClient",
                                      "AnswerToGateway"};
  return std::string(kLost[static_cast<int>(info.param.lost)]) +
         (info.param.client_exchange_redundant ? "_ClientExchangeRedundant"
                                               : "_GatewayExchangeRedundant");
}

class IkeRekeyCollisionLossTest : public IkeRekeyCollisionBase,
                                  public ::testing::WithParamInterface<LostCase> {};

TEST_P(IkeRekeyCollisionLossTest, SettlesWithinSeconds) {
  const LostCase c = GetParam();
  start_collision(c.client_exchange_redundant ? kLowestIsClientNi : kLowestIsGatewayNi);
  if (HasFatalFailure())
    return;
  if (c.lost == Lost::client_request)
    net.drop_next(1);
  ASSERT_TRUE(client->rekey_ike(old_client_id_));
  if (c.lost == Lost::gateway_request)
    net.drop_next(1);
  ASSERT_TRUE(gateway->rekey_ike(old_gateway_id_));
  // Deliver the requests that made it crosswise, losing an answer if asked.
  for (std::size_t requests = net.in_flight().size(); requests > 0; --requests) {
    const bool to_gateway = net.in_flight().front().to.address() == gateway_endpoint.address();
    if ((c.lost == Lost::answer_to_client && to_gateway) ||
        (c.lost == Lost::answer_to_gateway && !to_gateway)) {
      net.drop_next(1);
    }
    ASSERT_TRUE(net.deliver_one());
  }
  net.deliver_all();
  run_for(std::chrono::seconds(3));

  bool client_survives = !c.client_exchange_redundant;
  if (c.lost == Lost::client_request)
    client_survives = false;
  if (c.lost == Lost::gateway_request)
    client_survives = true;
  expect_settled(client_survives);
  if (HasFatalFailure())
    return;
  // An answer lost in the exchange that survives must be retransmitted.
  if (c.lost == Lost::answer_to_client && client_survives) {
    EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  }
  if (c.lost == Lost::answer_to_gateway && !client_survives) {
    EXPECT_EQ(client->counters().get("ike_retransmitted_responses"), 1u);
  }
  // An answer lost in the redundant exchange: its initiator never made the
  // SA, and the end that did drops it when the old SA goes.
  if (c.lost == Lost::answer_to_client && !client_survives) {
    EXPECT_EQ(gateway->counters().get("ike_rekey_redundant_dropped"), 1u);
  }
  if (c.lost == Lost::answer_to_gateway && client_survives) {
    EXPECT_EQ(client->counters().get("ike_rekey_redundant_dropped"), 1u);
  }
  EXPECT_EQ(client->counters().get("ike_failed") + gateway->counters().get("ike_failed"), 0u);
  expect_survivor_works();
}

INSTANTIATE_TEST_SUITE_P(OneMessageLost, IkeRekeyCollisionLossTest,
                         ::testing::Values(LostCase{Lost::client_request, true},
                                           LostCase{Lost::client_request, false},
                                           LostCase{Lost::gateway_request, true},
                                           LostCase{Lost::gateway_request, false},
                                           LostCase{Lost::answer_to_client, true},
                                           LostCase{Lost::answer_to_client, false},
                                           LostCase{Lost::answer_to_gateway, true},
                                           LostCase{Lost::answer_to_gateway, false}),
                         lost_case_name);

// The client's answer overtakes the gateway's request: the client's rekey
// completes before it sees the gateway's, so it answers that one as a
// request for an SA it already rekeyed (TEMPORARY_FAILURE); the gateway's
// answered collision then stands alone.
TEST_F(IkeRekeyCollisionBase, AnswerOvertakesThePeersRequest) {
  start_collision(kLowestIsClientNi);  // by the nonces the client's SA would be redundant
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(client->rekey_ike(old_client_id_));
  ASSERT_TRUE(gateway->rekey_ike(old_gateway_id_));
  ASSERT_TRUE(net.deliver_one());  // the client's request reaches the gateway
  net.swap_first_two();            // its answer goes before the gateway's request
  net.deliver_all();
  tick();
  expect_settled(true);
  if (HasFatalFailure())
    return;
  EXPECT_EQ(client->counters().get("ike_rekey_collision"), 0u);
  EXPECT_EQ(gateway->counters().get("ike_rekey_collision"), 1u);
  EXPECT_EQ(client->counters().get("ike_rekeyed"), 1u);
  EXPECT_EQ(client->counters().get("ike_rekeyed_by_peer"), 0u);
  EXPECT_EQ(gateway->counters().get("ike_rekeyed"), 0u);
  EXPECT_TRUE(client_host.logged("CREATE_CHILD_SA refused (TEMPORARY_FAILURE): IKE SA is"));
  expect_survivor_works();
}

// With Office Mode the gateway holds a lease for the client: it moves with
// the children to the surviving IKE SA and is released once, when that goes.
class IkeRekeyCollisionLeaseTest : public IkeRekeyCollisionBase,
                                   public ::testing::WithParamInterface<bool> {};

TEST_P(IkeRekeyCollisionLeaseTest, LeaseMovesToTheSurvivor) {
  const bool client_exchange_redundant = GetParam();
  client_config->request_virtual_ip = true;
  gateway_config->pools = {"vpn"};
  gateway_host.office_mode.addresses = {asio::ip::make_address("10.8.0.7")};
  start_collision(client_exchange_redundant ? kLowestIsClientNi : kLowestIsGatewayNi);
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(client->rekey_ike(old_client_id_));
  ASSERT_TRUE(gateway->rekey_ike(old_gateway_id_));
  net.deliver_all();
  tick();
  expect_settled(!client_exchange_redundant);
  if (HasFatalFailure())
    return;
  const std::vector<asio::ip::address> vip{asio::ip::make_address("10.8.0.7")};
  EXPECT_EQ(client_sa()->virtual_ips(), vip);
  EXPECT_EQ(gateway_sa()->virtual_ips(), vip);
  EXPECT_EQ(gateway_host.releases, 0u);
  EXPECT_EQ(gateway_host.leases.count("client.traverse.lab"), 1u);
  ASSERT_TRUE(client->terminate_ike(client_sa()->id()));
  net.deliver_all();
  tick();
  expect_nothing_left();
  EXPECT_EQ(gateway_host.releases, 1u);
  EXPECT_TRUE(gateway_host.leases.empty());
}

INSTANTIATE_TEST_SUITE_P(ClientOrGatewayExchangeRedundant, IkeRekeyCollisionLeaseTest,
                         ::testing::Bool());

// RFC 7296 2.25.2: a rekey of the IKE SA while we rekey one of its child
// SAs is refused with TEMPORARY_FAILURE; the requester tries again later.
TEST_F(IkePairTest, IkeRekeyDuringAChildRekeyIsRefusedAndRetried) {
  establish();
  if (HasFatalFailure())
    return;
  const uint64_t old_spi_i = client_sa()->spi_i();
  ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
  ASSERT_TRUE(gateway->rekey_ike(gateway_sa()->id()));
  ASSERT_EQ(net.in_flight().size(), 2u);
  net.deliver_all();
  EXPECT_TRUE(client_host.logged("IKE rekey refused (TEMPORARY_FAILURE)"));
  EXPECT_EQ(client->counters().get("ike_rekey_collision"), 0u);
  EXPECT_EQ(client->counters().get("child_rekeyed"), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after the child rekey");
  EXPECT_EQ(client_sa()->spi_i(), old_spi_i);
  run_for(std::chrono::seconds(40), std::chrono::seconds(1));
  EXPECT_PAIR_CONSISTENT(1, "after the retried IKE rekey");
  EXPECT_NE(client_sa()->spi_i(), old_spi_i);
  EXPECT_EQ(gateway->counters().get("ike_rekeyed"), 1u);
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
