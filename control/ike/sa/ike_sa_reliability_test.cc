// Reliability between two in-process managers (RFC 7296 2.1, 2.4): liveness
// checks, retransmission with back-off, lost and duplicated messages
// processed once, and giving up on a dead peer.
#include <gtest/gtest.h>

#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(IkePairTest, IdleSaSendsLivenessChecks) {
  client_config->dpd_interval = seconds(10);
  establish();
  if (HasFatalFailure())
    return;
  net.advance(seconds(9));
  tick();
  EXPECT_TRUE(net.in_flight().empty()) << "liveness before the interval";
  net.advance(seconds(2));
  tick();
  ASSERT_EQ(net.in_flight().size(), 1u);
  net.deliver_all();
  EXPECT_EQ(client->counters().get("ike_liveness_sent"), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after a liveness check");
  // Answered, so the next one waits a full interval again.
  net.advance(seconds(9));
  tick();
  EXPECT_TRUE(net.in_flight().empty());
}

TEST_F(IkePairTest, LostRequestIsRetransmittedWithBackOff) {
  establish();
  if (HasFatalFailure())
    return;
  net.drop_next(3);
  ASSERT_TRUE(client->rekey_child(only_child(*client_sa())));
  EXPECT_TRUE(net.in_flight().empty());
  // 1 s, then 2 s, then 4 s between transmissions.
  for (milliseconds wait : {milliseconds(1000), milliseconds(2000), milliseconds(4000)}) {
    const std::size_t sent = net.history().size();
    net.advance(wait - milliseconds(1));
    tick();
    EXPECT_EQ(net.history().size(), sent) << "retransmitted before " << wait.count() << " ms";
    net.advance(milliseconds(1));
    tick();
    EXPECT_EQ(net.history().size(), sent + 1) << "no retransmission after " << wait.count();
  }
  EXPECT_EQ(client->counters().get("ike_retransmits"), 3u);
  EXPECT_EQ(net.dropped(), 3u);
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(1, "after the retransmitted rekey");
  EXPECT_EQ(gateway->counters().get("child_rekeyed_by_peer"), 1u);
}

TEST_F(IkePairTest, LostResponseIsAnsweredFromTheCache) {
  establish();
  if (HasFatalFailure())
    return;
  client_sa()->request_create_child();
  ASSERT_TRUE(net.deliver_one());  // processed by the gateway
  ASSERT_EQ(net.in_flight().size(), 1u);
  net.drop_front();  // the response is lost
  const std::size_t gateway_adds = gateway_host.backend.adds;
  EXPECT_EQ(gateway_sa()->children().size(), 2u);
  net.advance(seconds(1));
  tick();
  ASSERT_EQ(net.in_flight().size(), 1u);  // the retransmitted request
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  EXPECT_EQ(gateway_host.backend.adds, gateway_adds) << "the request was processed twice";
  EXPECT_PAIR_CONSISTENT(2, "after the cached response");
}

TEST_F(IkePairTest, LostInitResponseIsAnsweredFromTheCache) {
  initiate();
  ASSERT_TRUE(net.deliver_one());
  net.drop_front();  // the IKE_SA_INIT response
  net.advance(seconds(1));
  tick();
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  EXPECT_EQ(gateway->ike_sa_count(), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after the cached IKE_SA_INIT response");
}

TEST_F(IkePairTest, LostAuthResponseIsAnsweredFromTheCache) {
  initiate();
  ASSERT_TRUE(net.deliver_one());
  ASSERT_TRUE(net.deliver_one());
  ASSERT_TRUE(net.deliver_one());  // IKE_AUTH at the gateway: established there
  net.drop_front();                // its response is lost
  EXPECT_EQ(gateway_sa()->state(), IkeState::established);
  net.advance(seconds(1));
  tick();
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_established"), 1u);
  EXPECT_EQ(gateway_host.backend.adds, 2u) << "IKE_AUTH processed twice";
  EXPECT_PAIR_CONSISTENT(1, "after the cached IKE_AUTH response");
}

TEST_F(IkePairTest, LostIkeRekeyResponse) {
  establish();
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(client->rekey_ike(client_sa()->id()));
  ASSERT_TRUE(net.deliver_one());  // the gateway makes the new IKE SA
  net.drop_front();                // the client never hears of it
  EXPECT_EQ(gateway->ike_sa_count(), 2u);
  net.advance(seconds(1));
  tick();
  net.deliver_all();
  tick();
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_rekeyed_by_peer"), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after the retransmitted IKE rekey");
}

TEST_F(IkePairTest, LostDeleteResponseStillEndsBothSides) {
  establish();
  if (HasFatalFailure())
    return;
  ASSERT_TRUE(client->terminate_ike(client_sa()->id()));
  ASSERT_TRUE(net.deliver_one());  // the gateway deletes
  net.drop_front();                // its answer is lost
  run_for(seconds(70), milliseconds(500));
  expect_nothing_left();
}

// The operator terminates while a request is unanswered (lost): the delete
// must still reach the peer, whose window (RFC 7296 2.3) only accepts the
// message ID it is waiting for.
TEST_F(IkePairTest, TerminateWhileARequestIsLost) {
  establish();
  if (HasFatalFailure())
    return;
  client_sa()->request_create_child();
  net.drop_front();
  ASSERT_TRUE(client->terminate_ike(client_sa()->id()));
  run_for(seconds(8), milliseconds(500));
  EXPECT_EQ(gateway->ike_sa_count(), 0u) << "the gateway never learned of the delete";
  EXPECT_TRUE(gateway_host.backend.sas().empty());
  expect_nothing_left();
}

TEST_F(IkePairTest, DuplicatedRequestIsProcessedOnce) {
  establish();
  if (HasFatalFailure())
    return;
  net.duplicate_next(1);
  client_sa()->request_create_child();
  ASSERT_EQ(net.in_flight().size(), 2u);
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), 1u);
  // The second response finds nothing pending.
  EXPECT_EQ(client->counters().get("ike_drop_unexpected_response"), 1u);
  EXPECT_PAIR_CONSISTENT(2, "after the duplicate");
}

TEST_F(IkePairTest, DuplicatedInitRequestMakesOneSa) {
  start();
  net.duplicate_next(1);
  initiate();
  net.deliver_all();
  EXPECT_EQ(gateway->ike_sa_count(), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after a duplicated IKE_SA_INIT");
}

TEST_F(IkePairTest, ReorderedRequestsStillComplete) {
  establish();
  if (HasFatalFailure())
    return;
  // Both sides start an exchange; the two requests arrive in the other order.
  client_sa()->request_create_child();
  gateway_sa()->request_create_child();
  ASSERT_EQ(net.in_flight().size(), 2u);
  net.swap_first_two();
  net.deliver_all();
  EXPECT_PAIR_CONSISTENT(3, "after crossing requests");
}

TEST_F(IkePairTest, RetransmitLimitKillsTheSaAndItsChildren) {
  client_config->dpd_interval = seconds(5);
  establish();
  if (HasFatalFailure())
    return;
  net.blackhole(gateway_endpoint.address(), true);  // the gateway is gone
  // Liveness after 5 s idle, then 1+2+4+8+16+32 s of retransmissions.
  run_for(seconds(5 + 62), milliseconds(500));
  EXPECT_EQ(client->counters().get("ike_retransmits"), 5u);
  EXPECT_EQ(client->ike_sa_count(), 1u) << "gave up too early";
  run_for(seconds(2), milliseconds(500));
  EXPECT_EQ(client->ike_sa_count(), 0u);
  EXPECT_EQ(client->child_sa_count(), 0u);
  EXPECT_TRUE(client_host.backend.sas().empty());
  EXPECT_TRUE(client_host.backend.policies().empty());
  EXPECT_EQ(client_host.backend.bad_calls, 0u);
  EXPECT_EQ(client->counters().get("ike_failed"), 1u);
}

TEST_F(IkePairTest, UnansweredInitGivesUpWhenHalfOpenTooLong) {
  start();
  net.blackhole(gateway_endpoint.address(), true);
  initiate();
  run_for(seconds(31), milliseconds(500));
  EXPECT_EQ(client->ike_sa_count(), 0u);
  EXPECT_EQ(client->half_open_count(), 0u);
  EXPECT_GE(client->counters().get("ike_retransmits"), 4u);
}

}  // namespace
}  // namespace traverse::ike::testing
