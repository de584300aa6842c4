// Child SAs between two in-process managers: creation, rekeying from either
// side and at once (RFC 7296 2.8.1), deletion; and deleting the IKE SA.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

std::set<uint32_t> inbound_spis(const IkeSa& sa) {
  std::set<uint32_t> out;
  for (const auto& [id, child] : sa.children())
    out.insert(child.spi_in);
  return out;
}

// What a test remembers of a child that is about to be replaced.
struct OldChild {
  uint32_t spi_in = 0;
  uint32_t spi_out = 0;
  std::vector<TsRange> local_ts;
  std::vector<TsRange> remote_ts;
  Bytes key_in;
};

OldChild remember(const IkeSa& sa, const FakeBackend& backend) {
  const ChildSa& child = sa.children().begin()->second;
  OldChild out{child.spi_in, child.spi_out, child.local_ts, child.remote_ts, {}};
  if (const InstalledSa* in = backend.find(child.spi_in, true))
    out.key_in = in->encr_key;
  return out;
}

TEST_F(IkePairTest, CreateChildAfterAuth) {
  establish();
  if (HasFatalFailure())
    return;
  const auto first = inbound_spis(*client_sa());
  client_sa()->request_create_child();
  ASSERT_EQ(net.in_flight().size(), 1u);
  ASSERT_TRUE(net.deliver_one());
  EXPECT_EQ(gateway_sa()->children().size(), 2u);
  EXPECT_EQ(client_sa()->children().size(), 1u);
  ASSERT_TRUE(net.deliver_one());
  EXPECT_TRUE(net.in_flight().empty());
  EXPECT_PAIR_CONSISTENT(2, "after CREATE_CHILD_SA");
  // The first child is untouched.
  for (uint32_t spi : first)
    EXPECT_EQ(inbound_spis(*client_sa()).count(spi), 1u);
}

TEST_F(IkePairTest, CreateChildWithPfs) {
  client_config->esp_proposals = {esp_proposal(kEncrAesGcm16Id, {kGroupEcp256Id})};
  gateway_config->esp_proposals = client_config->esp_proposals;
  establish();
  if (HasFatalFailure())
    return;
  // The IKE_AUTH child carries no DH transform (RFC 7296 1.2).
  EXPECT_EQ(client_sa()->children().begin()->second.dh_group(), 0u);
  client_sa()->request_create_child();
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(2, "after CREATE_CHILD_SA with PFS");
  std::size_t with_pfs = 0;
  for (const auto& [id, child] : client_sa()->children())
    with_pfs += child.dh_group() == kGroupEcp256Id ? 1 : 0;
  EXPECT_EQ(with_pfs, 1u);
}

// RFC 7296 1.3: a responder that wants another PFS group answers
// INVALID_KE_PAYLOAD with it; the initiator retries with that group.
class PfsGroupMismatchTest : public IkePairTest, public ::testing::WithParamInterface<bool> {};

TEST_P(PfsGroupMismatchTest, RetriesWithTheGroupThePeerWants) {
  const bool rekey = GetParam();
  client_config->esp_proposals = {
      esp_proposal(kEncrAesGcm16Id, {kGroupCurve25519Id, kGroupEcp256Id})};
  gateway_config->esp_proposals = {esp_proposal(kEncrAesGcm16Id, {kGroupEcp256Id})};
  establish();
  if (HasFatalFailure())
    return;
  if (rekey) {
    ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
  } else {
    client_sa()->request_create_child();
  }
  net.deliver_all();
  EXPECT_GE(gateway->counters().get("child_refused"), 1u);
  EXPECT_PAIR_CONSISTENT(rekey ? 1 : 2, "after the INVALID_KE_PAYLOAD retry");
  std::size_t with_pfs = 0;
  for (const auto& [id, child] : client_sa()->children())
    with_pfs += child.dh_group() == kGroupEcp256Id ? 1 : 0;
  EXPECT_EQ(with_pfs, 1u);
}

INSTANTIATE_TEST_SUITE_P(CreateOrRekey, PfsGroupMismatchTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return std::string(param.param ? "Rekey" : "Create");
                         });

class ChildRekeyTest : public IkePairTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ChildRekeyTest, RekeyReplacesTheChildOnBothSides) {
  const bool from_client = GetParam();
  establish();
  if (HasFatalFailure())
    return;
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  const OldChild old_child = remember(*c, client_host.backend);
  const uint64_t old_gateway_child = only_child(*g);
  const std::size_t client_adds = client_host.backend.adds;

  if (from_client) {
    ASSERT_TRUE(client->rekey_child(only_child(*c)));
  } else {
    ASSERT_TRUE(gateway->rekey_child(old_gateway_child));
  }
  IkeSaManager& initiator = from_client ? *client : *gateway;
  IkeSaManager& responder = from_client ? *gateway : *client;

  ASSERT_TRUE(net.deliver_one());  // CREATE_CHILD_SA request
  EXPECT_EQ(responder.child_sa_count(), 2u) << "old and new child at the responder";
  ASSERT_TRUE(net.deliver_one());  // its response: the initiator installs, deletes the old
  EXPECT_EQ(initiator.counters().get("child_rekeyed"), 1u);
  EXPECT_EQ(responder.counters().get("child_rekeyed_by_peer"), 1u);
  // The old outbound SA is gone at the initiator, the old inbound one stays
  // until the delete is answered (packets in flight).
  FakeBackend& initiator_backend = from_client ? client_host.backend : gateway_host.backend;
  const uint32_t old_initiator_in = from_client ? old_child.spi_in : old_child.spi_out;
  const uint32_t old_initiator_out = from_client ? old_child.spi_out : old_child.spi_in;
  EXPECT_EQ(initiator_backend.find(old_initiator_out, false), nullptr);
  EXPECT_NE(initiator_backend.find(old_initiator_in, true), nullptr);

  net.deliver_all();  // the delete and its answer
  EXPECT_PAIR_CONSISTENT(1, "after the rekey");
  const ChildSa& fresh = c->children().begin()->second;
  EXPECT_NE(fresh.spi_in, old_child.spi_in);
  EXPECT_NE(fresh.spi_out, old_child.spi_out);
  EXPECT_EQ(fresh.local_ts, old_child.local_ts);
  EXPECT_EQ(fresh.remote_ts, old_child.remote_ts);
  for (const FakeBackend* b : {&client_host.backend, &gateway_host.backend}) {
    for (uint32_t spi : {old_child.spi_in, old_child.spi_out}) {
      EXPECT_EQ(b->find(spi, true), nullptr);
      EXPECT_EQ(b->find(spi, false), nullptr);
    }
  }
  // New keys, not the old ones.
  EXPECT_NE(client_host.backend.find(fresh.spi_in, true)->encr_key, old_child.key_in);
  EXPECT_EQ(client_host.backend.adds, client_adds + 2);
}

TEST_P(ChildRekeyTest, RekeyWithVirtualIp) {
  const bool from_client = GetParam();
  client_config->request_virtual_ip = true;
  gateway_config->pools = {"vpn"};
  gateway_host.office_mode.addresses = {asio::ip::make_address("10.8.0.7")};
  establish();
  if (HasFatalFailure())
    return;
  const std::vector<TsRange> vip{TsRange::host(asio::ip::make_address("10.8.0.7"))};
  if (from_client) {
    ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
  } else {
    ASSERT_TRUE(gateway->rekey_child(only_child(*gateway_sa())));
  }
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(1, "after the rekey");
  EXPECT_EQ(client_sa()->children().begin()->second.local_ts, vip);
  EXPECT_EQ(client->counters().get("child_refused"), 0u);
  EXPECT_EQ(gateway->counters().get("child_refused"), 0u);
}

INSTANTIATE_TEST_SUITE_P(FromEitherSide, ChildRekeyTest, ::testing::Bool(), side_name);

std::size_t count_lines(const FakeHost& host, std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(host.log_lines.begin(), host.log_lines.end(),
                    [&](const std::string& line) { return line.find(text) != std::string::npos; }));
}

// Both sides rekey the same child at once. Which of the two new SAs is
// redundant depends on the random nonces, so several rounds exercise both
// outcomes; each must end with one child per side.
TEST_F(IkePairTest, SimultaneousChildRekeyLeavesOneChild) {
  establish();
  if (HasFatalFailure())
    return;
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const OldChild old_child = remember(*client_sa(), client_host.backend);
    const std::size_t client_collisions = count_lines(client_host, "rekey collision");
    const std::size_t gateway_collisions = count_lines(gateway_host, "rekey collision");
    ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
    ASSERT_TRUE(gateway->rekey_child(only_child(*gateway_sa())));
    ASSERT_EQ(net.in_flight().size(), 2u);  // both requests cross on the wire
    ASSERT_TRUE(net.deliver_one());         // client's request at the gateway
    ASSERT_TRUE(net.deliver_one());         // gateway's request at the client
    EXPECT_EQ(client->child_sa_count(), 2u);
    EXPECT_EQ(gateway->child_sa_count(), 2u);
    net.deliver_all();  // both responses, the deletes of the old and redundant SAs
    tick();
    EXPECT_PAIR_CONSISTENT(1, "after the collision");
    const ChildSa& fresh = client_sa()->children().begin()->second;
    EXPECT_NE(fresh.spi_in, old_child.spi_in);
    EXPECT_NE(fresh.spi_out, old_child.spi_out);
    // Exactly one side found its own new SA redundant and deleted it.
    EXPECT_EQ(count_lines(client_host, "rekey collision") - client_collisions +
                  count_lines(gateway_host, "rekey collision") - gateway_collisions,
              1u);
  }
  // Both outcomes happened (each round is a coin toss: 2^-11 to miss one).
  EXPECT_GT(count_lines(client_host, "rekey collision"), 0u);
  EXPECT_GT(count_lines(gateway_host, "rekey collision"), 0u);
  // Nothing is left to time out later.
  run_for(std::chrono::seconds(40), std::chrono::seconds(5));
  EXPECT_PAIR_CONSISTENT(1, "40 s later");
}

// The same collision, but each response overtakes the peer's request.
TEST_F(IkePairTest, SimultaneousChildRekeyResponsesFirst) {
  establish();
  if (HasFatalFailure())
    return;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
    ASSERT_TRUE(gateway->rekey_child(only_child(*gateway_sa())));
    ASSERT_EQ(net.in_flight().size(), 2u);
    ASSERT_TRUE(net.deliver_one());  // client's request at the gateway
    net.swap_first_two();            // the gateway's response overtakes its request
    ASSERT_TRUE(net.deliver_one());  // the response at the client
    net.deliver_all();
    tick();
    EXPECT_PAIR_CONSISTENT(1, "after the collision");
  }
}

class ChildDeleteTest : public IkePairTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ChildDeleteTest, DeleteChildFromEitherSide) {
  const bool from_client = GetParam();
  establish();
  if (HasFatalFailure())
    return;
  client_sa()->request_create_child();
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(2, "two children");
  IkeSa* deleter = from_client ? client_sa() : gateway_sa();
  const uint64_t victim = deleter->children().begin()->first;
  const uint32_t victim_spi = deleter->children().begin()->second.spi_in;
  ASSERT_TRUE((from_client ? *client : *gateway).terminate_child(victim));
  ASSERT_TRUE(net.deliver_one());  // the delete
  ASSERT_TRUE(net.deliver_one());  // its answer
  EXPECT_TRUE(net.in_flight().empty());
  EXPECT_PAIR_CONSISTENT(1, "after the delete");
  EXPECT_EQ(inbound_spis(*deleter).count(victim_spi), 0u);
  EXPECT_EQ((from_client ? *gateway : *client).counters().get("child_deleted_by_peer"), 1u);
}

TEST_P(ChildDeleteTest, DeleteIkeSaFromEitherSide) {
  const bool from_client = GetParam();
  establish();
  if (HasFatalFailure())
    return;
  IkeSa* deleter = from_client ? client_sa() : gateway_sa();
  ASSERT_TRUE((from_client ? *client : *gateway).terminate_ike(deleter->id()));
  // The deleting side stops sending at once.
  EXPECT_TRUE((from_client ? client_host : gateway_host).backend.sas().empty());
  ASSERT_TRUE(net.deliver_one());
  ASSERT_TRUE(net.deliver_one());
  EXPECT_TRUE(net.in_flight().empty());
  tick();
  expect_nothing_left();
  EXPECT_EQ((from_client ? *gateway : *client).counters().get("ike_deleted_by_peer"), 1u);
}

TEST_F(IkePairTest, BothSidesDeleteTheSameChildAtOnce) {
  establish();
  if (HasFatalFailure())
    return;
  client_sa()->request_create_child();
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(2, "two children");
  const ChildSa& victim = client_sa()->children().begin()->second;
  const uint32_t victim_in = victim.spi_in;
  uint64_t gateway_victim = 0;
  for (const auto& [id, child] : gateway_sa()->children()) {
    if (child.spi_out == victim_in)
      gateway_victim = id;
  }
  ASSERT_TRUE(client->terminate_child(victim.id));
  ASSERT_TRUE(gateway->terminate_child(gateway_victim));
  ASSERT_EQ(net.in_flight().size(), 2u);
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(1, "after crossing deletes");
  EXPECT_EQ(inbound_spis(*client_sa()).count(victim_in), 0u);
}

TEST_F(IkePairTest, DataplaneRestartReinstallsTheSameSas) {
  establish();
  if (HasFatalFailure())
    return;
  const auto before = client_host.backend.sas().size();
  client_host.backend.restart();
  client->on_dataplane_restarted();
  EXPECT_EQ(client_host.backend.sas().size(), before);
  EXPECT_PAIR_CONSISTENT(1, "after the dataplane restart");
  // Outbound sequence numbers continue far past any used before: no GCM
  // (key, IV) pair repeats.
  const ChildSa& child = client_sa()->children().begin()->second;
  EXPECT_GT(client_host.backend.find(child.spi_out, false)->first_sequence, uint64_t{1} << 20);
  EXPECT_EQ(client_host.backend.find(child.spi_in, true)->first_sequence, 1u);
}

INSTANTIATE_TEST_SUITE_P(FromEitherSide, ChildDeleteTest, ::testing::Bool(), side_name);

}  // namespace
}  // namespace traverse::ike::testing
