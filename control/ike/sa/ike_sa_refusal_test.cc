// Refusals and hostile input between two in-process managers: INVALID_KE
// retry, COOKIE challenge (RFC 7296 2.6), wrong PSK, no common proposal, and
// random, truncated and bit-flipped datagrams, which must never crash and
// are all counted.
#include <gtest/gtest.h>

#include <random>

#include "control/ike/message/parser.hh"
#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

// Every datagram a manager throws away is counted under an "ike_drop_" name.
uint64_t drops(IkeSaManager& manager) {
  uint64_t n = 0;
  for (const auto& [name, value] : manager.counters().all()) {
    if (name.rfind("ike_drop_", 0) == 0)
      n += value;
  }
  return n;
}

// The notifies of a plaintext message.
std::vector<NotifyType> notifies_of(const Bytes& datagram) {
  std::vector<NotifyType> out;
  auto message = parse_message(datagram);
  if (!message)
    return out;
  for (const Payload& p : message->payloads) {
    if (const auto* n = std::get_if<NotifyPayload>(&p.body))
      out.push_back(n->type);
  }
  return out;
}

bool contains(const std::vector<NotifyType>& v, NotifyType t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

TEST_F(IkePairTest, InvalidKeRetriesWithTheGatewaysGroup) {
  client_config->ike_proposals = {
      ike_proposal(kEncrAesGcm16Id, {kGroupCurve25519Id, kGroupEcp256Id})};
  gateway_config->ike_proposals = {ike_proposal(kEncrAesGcm16Id, {kGroupEcp256Id})};
  initiate();
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_invalid_ke_sent"), 1u);
  EXPECT_EQ(client->counters().get("ike_invalid_ke_received"), 1u);
  // The refusal carries the group the gateway wants (RFC 7296 1.2).
  ASSERT_GE(net.history().size(), 2u);
  EXPECT_TRUE(contains(notifies_of(net.history()[1].data), NotifyType::invalid_ke_payload));
  // The retry was answered at once, not after a retransmission.
  EXPECT_EQ(client->counters().get("ike_retransmits"), 0u);
  tick();
  EXPECT_PAIR_CONSISTENT(1, "after INVALID_KE_PAYLOAD");
  for (const auto& t : client_sa()->proposal().transforms) {
    if (t.type == 4) {
      EXPECT_EQ(t.id, kGroupEcp256Id);
    }
  }
}

TEST_F(IkePairTest, CookieChallengeIsAnswered) {
  gateway_settings.cookie_threshold = 0;
  initiate();
  ASSERT_TRUE(net.deliver_one());
  EXPECT_EQ(gateway->ike_sa_count(), 0u) << "state kept before the cookie came back";
  ASSERT_EQ(net.in_flight().size(), 1u);
  EXPECT_TRUE(contains(notifies_of(net.in_flight().front().data), NotifyType::cookie));
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_cookies_sent"), 1u);
  EXPECT_EQ(client->counters().get("ike_cookies_answered"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_drop_bad_cookie"), 0u);
  EXPECT_PAIR_CONSISTENT(1, "after the COOKIE exchange");
}

TEST_F(IkePairTest, ForgedCookieIsRefused) {
  gateway_settings.cookie_threshold = 0;
  initiate();
  ASSERT_TRUE(net.deliver_one());
  ASSERT_EQ(net.in_flight().size(), 1u);
  // Corrupt the cookie value in the challenge: the retry then carries a
  // cookie the gateway never made.
  Bytes& challenge = net.in_flight().front().data;
  challenge.back() ^= 0x01;
  net.deliver_all();
  EXPECT_EQ(gateway->counters().get("ike_drop_bad_cookie"), 1u);
  EXPECT_EQ(gateway->ike_sa_count(), 0u);
}

TEST_F(IkePairTest, WrongPskFailsWithoutInstallingAnything) {
  gateway_config->psk = std::make_shared<const Secret>(as_bytes("not the same secret"));
  initiate();
  net.deliver_all();
  tick();
  EXPECT_EQ(gateway->counters().get("ike_auth_failed"), 1u);
  EXPECT_TRUE(client_host.logged("AUTHENTICATION_FAILED"));
  EXPECT_EQ(client->counters().get("ike_established"), 0u);
  EXPECT_EQ(gateway->counters().get("ike_established"), 0u);
  expect_nothing_left();
  EXPECT_EQ(client_host.backend.adds + gateway_host.backend.adds, 0u);
}

TEST_F(IkePairTest, NoCommonIkeProposal) {
  gateway_config->ike_proposals = {ike_proposal(kEncrAesCbcId, {kGroupEcp256Id})};
  initiate();
  net.deliver_all();
  tick();
  ASSERT_EQ(net.history().size(), 2u);
  EXPECT_TRUE(contains(notifies_of(net.history()[1].data), NotifyType::no_proposal_chosen));
  EXPECT_TRUE(client_host.logged("NO_PROPOSAL_CHOSEN"));
  expect_nothing_left();
}

TEST_F(IkePairTest, NoCommonEspProposalLeavesTheIkeSaWithoutChild) {
  gateway_config->esp_proposals = {esp_proposal(kEncrAesCbcId)};
  initiate();
  net.deliver_all();
  IkeSa* c = client_sa();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state(), IkeState::established);
  EXPECT_TRUE(c->children().empty());
  EXPECT_TRUE(client_host.logged("NO_PROPOSAL_CHOSEN"));
  EXPECT_TRUE(client_host.backend.sas().empty());
  EXPECT_TRUE(gateway_host.backend.sas().empty());
}

class HostileInputTest : public IkePairTest {
 protected:
  // Establishes, creates a second child and answers a liveness check, so the
  // history holds every kind of message.
  void SetUp() override {
    establish();
    if (HasFatalFailure())
      return;
    client_sa()->request_create_child();
    net.deliver_all();
    gateway_sa()->request_rekey_child(gateway_sa()->children().begin()->first);
    net.deliver_all();
    expect_consistent(2);
    real_ = net.history();
  }

  void feed(const Endpoint& to, const Endpoint& from, ByteView data) {
    ++fed_;
    (to.address() == gateway_endpoint.address() ? *gateway : *client).on_datagram(to, from, data);
  }

  // Neither side changed state, and the pair still works.
  void expect_unharmed() {
    net.in_flight().clear();
    EXPECT_PAIR_CONSISTENT(2, "after hostile input");
    client_sa()->request_rekey_child(client_sa()->children().begin()->first);
    net.deliver_all();
    EXPECT_PAIR_CONSISTENT(2, "a rekey after hostile input");
  }

  std::vector<Datagram> real_;
  std::size_t fed_ = 0;
  std::mt19937 random_{20261124};
};

TEST_F(HostileInputTest, RandomBytes) {
  if (HasFatalFailure())
    return;
  const uint64_t rx_before = client->counters().get("ike_rx") + gateway->counters().get("ike_rx");
  const uint64_t drops_before = drops(*client) + drops(*gateway);
  const std::size_t sent_before = net.history().size();
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 700);
  for (int i = 0; i < 3000; ++i) {
    Bytes data(length(random_));
    for (auto& b : data)
      b = static_cast<uint8_t>(byte(random_));
    if (i % 2 == 1 && data.size() >= 28) {
      // A plausible header for the live SA, so the datagram gets past dispatch.
      const Bytes& model = real_[2 + static_cast<std::size_t>(i) % (real_.size() - 2)].data;
      std::copy(model.begin(), model.begin() + 28, data.begin());
      data[24] = static_cast<uint8_t>(data.size() >> 24);
      data[25] = static_cast<uint8_t>(data.size() >> 16);
      data[26] = static_cast<uint8_t>(data.size() >> 8);
      data[27] = static_cast<uint8_t>(data.size());
    }
    feed(i % 4 < 2 ? gateway_endpoint : client_endpoint,
         i % 4 < 2 ? client_endpoint : gateway_endpoint, data);
  }
  EXPECT_EQ(client->counters().get("ike_rx") + gateway->counters().get("ike_rx"), rx_before + fed_);
  EXPECT_EQ(drops(*client) + drops(*gateway), drops_before + fed_);
  EXPECT_EQ(net.history().size(), sent_before) << "hostile input was answered";
  expect_unharmed();
}

TEST_F(HostileInputTest, TruncatedRealMessages) {
  if (HasFatalFailure())
    return;
  const uint64_t drops_before = drops(*client) + drops(*gateway);
  const std::size_t sent_before = net.history().size();
  for (const Datagram& d : real_) {
    for (std::size_t len = 0; len < d.data.size(); ++len)
      feed(d.to, d.from, ByteView(d.data.data(), len));
  }
  EXPECT_EQ(drops(*client) + drops(*gateway), drops_before + fed_);
  EXPECT_EQ(net.history().size(), sent_before) << "hostile input was answered";
  expect_unharmed();
}

TEST_F(HostileInputTest, BitFlippedEncryptedMessages) {
  if (HasFatalFailure())
    return;
  const uint64_t drops_before = drops(*client) + drops(*gateway);
  const std::size_t sent_before = net.history().size();
  // Every message after IKE_SA_INIT is encrypted; flip each of its bits.
  for (std::size_t i = 2; i < real_.size(); ++i) {
    const Datagram& d = real_[i];
    for (std::size_t bit = 0; bit < d.data.size() * 8; ++bit) {
      Bytes copy = d.data;
      copy[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      feed(d.to, d.from, copy);
    }
  }
  EXPECT_EQ(drops(*client) + drops(*gateway), drops_before + fed_);
  // A forged copy of the last request must not make the peer resend its
  // response (RFC 7296 2.1: retransmit only for authentic requests).
  EXPECT_EQ(net.history().size(), sent_before) << "a forged datagram was answered";
  expect_unharmed();
}

TEST_F(HostileInputTest, BitFlippedInitMessages) {
  if (HasFatalFailure())
    return;
  // IKE_SA_INIT is plaintext: flipped copies may look like new peers. They
  // must not disturb the live SA, and the per-source limit bounds the state.
  for (std::size_t i = 0; i < 2; ++i) {
    const Datagram& d = real_[i];
    for (std::size_t bit = 0; bit < d.data.size() * 8; ++bit) {
      Bytes copy = d.data;
      copy[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      feed(d.to, d.from, copy);
    }
  }
  EXPECT_LE(gateway->half_open_count(), gateway_settings.per_source_half_open);
  EXPECT_GT(gateway->counters().get("ike_drop_per_source_limit"), 0u);
  // Time the half-open ones out, then check the pair.
  net.in_flight().clear();
  net.advance(std::chrono::seconds(31));
  tick();
  net.deliver_all();
  EXPECT_EQ(gateway->half_open_count(), 0u);
  expect_unharmed();
}

}  // namespace
}  // namespace traverse::ike::testing
