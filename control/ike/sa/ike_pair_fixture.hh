// GoogleTest fixture for ike_sa_unit_tests: a client (initiator config) and a
// gateway (responder config), each a real IkeSaManager with its own fake host,
// joined by a FakeNetwork. Checks that the two sides agree after an exchange:
// SPIs and keys crosswise, both fake dataplanes holding exactly the children,
// policies for each child. Single-threaded.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/ike/sa/test_peers.hh"

namespace traverse::ike::testing {

// IANA numbers the tests use.
inline constexpr uint16_t kEncrAesGcm16Id = 20;
inline constexpr uint16_t kEncrAesCbcId = 12;
inline constexpr uint16_t kPrfSha256Id = 5;
inline constexpr uint16_t kIntegSha256Id = 12;
inline constexpr uint16_t kGroupEcp256Id = 19;
inline constexpr uint16_t kGroupCurve25519Id = 31;

ProposalSpec ike_proposal(uint16_t encr, std::vector<uint16_t> groups);
ProposalSpec esp_proposal(uint16_t encr, std::vector<uint16_t> pfs_groups = {});
TsRange prefix(const std::string& address, unsigned length);

// Names the instances of tests parameterised by "the client starts it".
inline std::string side_name(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "Client" : "Gateway";
}

class IkePairTest : public ::testing::Test {
 protected:
  IkePairTest();
  ~IkePairTest() override;

  // Creates both managers from the settings and configs as they are now.
  void start();
  // The client initiates (nothing delivered yet); returns the IKE SA id.
  uint64_t initiate();
  // start() if needed, initiate, deliver everything; the pair must end up
  // established with one child.
  void establish();

  // The one IKE SA of a manager that is not dead (nullptr, and a failure,
  // unless there is exactly one).
  IkeSa* live_sa(IkeSaManager& manager);
  IkeSa* client_sa() { return live_sa(*client); }
  IkeSa* gateway_sa() { return live_sa(*gateway); }
  // The id of the single child of an SA (0 if not exactly one).
  static uint64_t only_child(const IkeSa& sa);

  void tick();  // both managers, at the network's time
  // Moves the clock in steps of `step`, ticking and delivering after each.
  void run_for(std::chrono::milliseconds total,
               std::chrono::milliseconds step = std::chrono::milliseconds(250));

  // The two live IKE SAs agree, with `children` installed child SAs each.
  void expect_consistent(std::size_t children);
  // Neither side holds any IKE SA, child SA, SA in the dataplane or policy.
  void expect_nothing_left();
  // Both managers' indexes and timer heap agree with their SAs.
  void expect_indexes_consistent();

  bool nat_in_path = false;  // outer addresses then differ between the sides
  FakeNetwork net;
  FakeHost client_host{net, "client"};
  FakeHost gateway_host{net, "gateway"};
  Endpoint client_endpoint;
  Endpoint gateway_endpoint;
  IkeSettings client_settings;
  IkeSettings gateway_settings;
  std::shared_ptr<PeerConfig> client_config;
  std::shared_ptr<PeerConfig> gateway_config;
  std::unique_ptr<IkeSaManager> client;
  std::unique_ptr<IkeSaManager> gateway;
};

// Runs expect_consistent with a trace naming the step, and stops the test on
// a fatal failure inside it.
#define EXPECT_PAIR_CONSISTENT(children, step) \
  do {                                         \
    SCOPED_TRACE(step);                        \
    expect_consistent(children);               \
    if (::testing::Test::HasFatalFailure())    \
      return;                                  \
  } while (false)

}  // namespace traverse::ike::testing
