// Establishing IKE SAs between two in-process managers: PSK and certificate
// authentication (fragmented IKE_AUTH), Office Mode, checked message by
// message.
#include <gtest/gtest.h>

#include "control/ike/auth/test_pki.hh"
#include "control/ike/auth/trust_store.hh"
#include "control/ike/sa/ike_pair_fixture.hh"

namespace traverse::ike::testing {
namespace {

TEST_F(IkePairTest, PskEstablishmentStepByStep) {
  initiate();
  ASSERT_EQ(net.in_flight().size(), 1u);  // IKE_SA_INIT request
  IkeSa* c = client_sa();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state(), IkeState::init_sent);
  EXPECT_EQ(client->half_open_count(), 1u);
  EXPECT_NE(c->spi_i(), 0u);
  EXPECT_EQ(c->spi_r(), 0u);

  ASSERT_TRUE(net.deliver_one());
  IkeSa* g = gateway_sa();
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), IkeState::init_done);
  EXPECT_EQ(gateway->half_open_count(), 1u);
  EXPECT_EQ(g->spi_i(), c->spi_i());
  EXPECT_NE(g->spi_r(), 0u);
  ASSERT_EQ(net.in_flight().size(), 1u);  // IKE_SA_INIT response

  ASSERT_TRUE(net.deliver_one());
  EXPECT_EQ(c->state(), IkeState::auth_sent);
  EXPECT_EQ(c->spi_r(), g->spi_r());
  EXPECT_TRUE(client_host.backend.sas().empty());
  ASSERT_EQ(net.in_flight().size(), 1u);  // IKE_AUTH request

  ASSERT_TRUE(net.deliver_one());
  EXPECT_EQ(g->state(), IkeState::established);
  EXPECT_EQ(g->remote_id_text(), "client.traverse.lab");
  EXPECT_EQ(g->children().size(), 1u);
  EXPECT_EQ(gateway_host.backend.sas().size(), 2u);
  EXPECT_TRUE(client_host.backend.sas().empty());
  ASSERT_EQ(net.in_flight().size(), 1u);  // IKE_AUTH response

  ASSERT_TRUE(net.deliver_one());
  EXPECT_TRUE(net.in_flight().empty());
  EXPECT_EQ(c->remote_id_text(), "gw.traverse.lab");
  EXPECT_PAIR_CONSISTENT(1, "after IKE_AUTH");
  EXPECT_EQ(c->role(), Role::initiator);
  EXPECT_FALSE(c->encap());

  // The selectors: the client's own address against the gateway's subnet.
  const ChildSa& child = c->children().begin()->second;
  EXPECT_EQ(child.local_ts, std::vector<TsRange>{TsRange::host(client_endpoint.address())});
  EXPECT_EQ(child.remote_ts, std::vector<TsRange>{prefix("10.1.0.0", 16)});
  EXPECT_EQ(child.encr_id(), kEncrAesGcm16Id);
  // AES-256-GCM: 32 key bytes and the 4-byte salt (RFC 4106 8.1).
  EXPECT_EQ(client_host.backend.find(child.spi_in, true)->encr_key.size(), 36u);
  EXPECT_TRUE(client_host.backend.find(child.spi_in, true)->integ_key.empty());
  EXPECT_EQ(client->counters().get("ike_established"), 1u);
  EXPECT_EQ(gateway->counters().get("ike_established"), 1u);
  EXPECT_EQ(client->counters().get("ike_retransmits"), 0u);
}

TEST_F(IkePairTest, CbcWithHmacEstablishes) {
  client_config->ike_proposals = {ike_proposal(kEncrAesCbcId, {kGroupEcp256Id})};
  client_config->esp_proposals = {esp_proposal(kEncrAesCbcId)};
  gateway_config->ike_proposals = client_config->ike_proposals;
  gateway_config->esp_proposals = client_config->esp_proposals;
  establish();
  if (HasFatalFailure())
    return;
  EXPECT_PAIR_CONSISTENT(1, "AES-CBC + HMAC-SHA-256");
  const ChildSa& child = client_sa()->children().begin()->second;
  const InstalledSa* in = client_host.backend.find(child.spi_in, true);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->encr_key.size(), 32u);
  EXPECT_EQ(in->integ_key.size(), 32u);
  EXPECT_EQ(in->integ_id, kIntegSha256Id);
}

TEST_F(IkePairTest, VirtualIpDnsAndSplitReachTheInitiator) {
  client_config->request_virtual_ip = true;
  gateway_config->pools = {"vpn"};
  gateway_host.office_mode.addresses = {asio::ip::make_address("10.8.0.2")};
  gateway_host.office_mode.dns = {asio::ip::make_address("10.8.0.53")};
  gateway_host.office_mode.split_dns = {"corp.traverse.lab"};
  gateway_host.office_mode.split_include = {prefix("10.1.0.0", 16)};
  establish();
  if (HasFatalFailure())
    return;
  EXPECT_PAIR_CONSISTENT(1, "with Office Mode");
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  const auto vip = asio::ip::make_address("10.8.0.2");
  EXPECT_EQ(c->virtual_ips(), std::vector<asio::ip::address>{vip});
  EXPECT_EQ(g->virtual_ips(), std::vector<asio::ip::address>{vip});
  const AssignedConfig& got = c->received_config();
  EXPECT_EQ(got.addresses, std::vector<asio::ip::address>{vip});
  EXPECT_EQ(got.dns, gateway_host.office_mode.dns);
  EXPECT_EQ(got.split_dns, gateway_host.office_mode.split_dns);
  EXPECT_EQ(got.split_include, gateway_host.office_mode.split_include);
  // The child is narrowed to the leased address, and the gateway routes it.
  const ChildSa& child = c->children().begin()->second;
  EXPECT_EQ(child.local_ts, std::vector<TsRange>{TsRange::host(vip)});
  ASSERT_EQ(gateway_host.backend.policies().size(), 1u);
  EXPECT_EQ(gateway_host.backend.policies()[0].selector, TsRange::host(vip));
  EXPECT_EQ(gateway_host.leases.count("client.traverse.lab"), 1u);

  // The lease goes back to the pool with the IKE SA.
  ASSERT_TRUE(client->terminate_ike(c->id()));
  net.deliver_all();
  tick();
  expect_nothing_left();
  EXPECT_EQ(gateway_host.releases, 1u);
  EXPECT_TRUE(gateway_host.leases.empty());
}

TEST_F(IkePairTest, ExhaustedPoolRefusesTheChildNotTheIkeSa) {
  client_config->request_virtual_ip = true;
  gateway_config->pools = {"vpn"};  // office_mode.addresses stays empty: exhausted
  initiate();
  net.deliver_all();
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  ASSERT_NE(c, nullptr);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(c->state(), IkeState::established);
  EXPECT_TRUE(c->children().empty());
  EXPECT_TRUE(g->children().empty());
  EXPECT_TRUE(c->virtual_ips().empty());
  EXPECT_TRUE(client_host.backend.sas().empty());
  EXPECT_TRUE(gateway_host.backend.sas().empty());
  EXPECT_TRUE(client_host.logged("INTERNAL_ADDRESS_FAILURE"));
}

class CertificatePairTest : public IkePairTest {
 protected:
  static std::shared_ptr<const Credentials> credentials(const std::string& leaf) {
    auto made = std::make_shared<Credentials>();
    made->chain.push_back(Certificate::load(pki_path(leaf + ".pem")).value());
    made->chain.push_back(Certificate::load(pki_path("intermediate.pem")).value());
    made->key = PrivateKey::load(pki_path(leaf + ".key")).value();
    auto trust = std::make_shared<TrustStore>();
    EXPECT_TRUE(trust->add_ca_file(pki_path("root.pem")).has_value());
    made->trust = trust;
    return made;
  }

  void use_certificates() {
    client_config->local_auth = AuthKind::pubkey;
    client_config->remote_auth = AuthKind::pubkey;
    client_config->local_id = parse_identity("email:alice@traverse.lab").value();
    client_config->credentials = credentials("p384");
    gateway_config->local_auth = AuthKind::pubkey;
    gateway_config->remote_auth = AuthKind::pubkey;
    gateway_config->remote_id = IdentityPattern::parse("*@traverse.lab").value();
    gateway_config->credentials = credentials("rsa");
  }
};

TEST_F(CertificatePairTest, CertificatesWithoutFragmentation) {
  use_certificates();
  client_config->fragmentation = false;  // then IKE_AUTH goes out whole
  establish();
  if (HasFatalFailure())
    return;
  EXPECT_PAIR_CONSISTENT(1, "certificates");
  EXPECT_EQ(client_sa()->remote_id_text(), "gw.traverse.lab");
  EXPECT_EQ(gateway_sa()->remote_id_text(), "alice@traverse.lab");
  EXPECT_EQ(client->counters().get("ike_fragments_sent"), 0u);
  EXPECT_EQ(gateway->counters().get("ike_fragments_sent"), 0u);
  EXPECT_GT(net.history()[2].data.size(), 1280u);
}

TEST_F(CertificatePairTest, SmallFragmentSizeFragmentsIkeAuthBothWays) {
  use_certificates();
  client_settings.fragment_size = 576;
  gateway_settings.fragment_size = 576;
  establish();
  if (HasFatalFailure())
    return;
  EXPECT_PAIR_CONSISTENT(1, "fragmented IKE_AUTH");
  // Two certificates (RSA-2048 leaf and intermediate) do not fit in 576 bytes.
  const uint64_t client_sent = client->counters().get("ike_fragments_sent");
  const uint64_t gateway_sent = gateway->counters().get("ike_fragments_sent");
  EXPECT_GE(client_sent, 3u);
  EXPECT_GE(gateway_sent, 3u);
  EXPECT_EQ(gateway->counters().get("ike_fragments_received"), client_sent);
  EXPECT_EQ(client->counters().get("ike_fragments_received"), gateway_sent);
  for (const Datagram& d : net.history())
    EXPECT_LE(d.data.size() + 28, 576u) << "a datagram exceeds fragment_size";
}

TEST_F(CertificatePairTest, LostFragmentIsRecoveredByRetransmission) {
  use_certificates();
  client_settings.fragment_size = 576;
  gateway_settings.fragment_size = 576;
  initiate();
  ASSERT_TRUE(net.deliver_one());  // IKE_SA_INIT request
  ASSERT_TRUE(net.deliver_one());  // its response; the client sends IKE_AUTH fragments
  const std::size_t fragments = net.in_flight().size();
  ASSERT_GE(fragments, 3u);
  net.in_flight().erase(net.in_flight().begin() + 1);  // lose the second fragment
  net.deliver_all();
  EXPECT_EQ(gateway_sa()->state(), IkeState::init_done);
  run_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(client->counters().get("ike_retransmits"), 1u);
  EXPECT_PAIR_CONSISTENT(1, "after the retransmitted fragments");
  EXPECT_EQ(gateway->counters().get("ike_established"), 1u);
}

// Forged copies of the fragments of an answered IKE_AUTH request: none may
// make the gateway resend its response; an authentic first fragment does.
TEST_F(CertificatePairTest, ForgedRetransmittedFragmentsAreNotAnswered) {
  use_certificates();
  client_settings.fragment_size = 576;
  gateway_settings.fragment_size = 576;
  establish();
  if (HasFatalFailure())
    return;
  std::vector<Datagram> fragments;
  for (const Datagram& d : net.history()) {
    if (d.to.address() == gateway_endpoint.address() && d.data.size() > 28 && d.data[16] == 53)
      fragments.push_back(d);  // next payload SKF (53) in the IKE header
  }
  ASSERT_GE(fragments.size(), 3u);
  const std::size_t sent_before = net.history().size();
  const uint64_t retransmitted = gateway->counters().get("ike_retransmitted_responses");
  for (const Datagram& d : fragments) {
    for (std::size_t at = 28; at < d.data.size(); at += 7) {
      Bytes copy = d.data;
      copy[at] ^= 0x40;
      gateway->on_datagram(d.to, d.from, copy);
    }
  }
  EXPECT_EQ(net.history().size(), sent_before) << "a forged fragment was answered";
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), retransmitted);
  // Authentic retransmissions: only the first fragment is answered (RFC 7383 2.6.1).
  for (const Datagram& d : fragments)
    gateway->on_datagram(d.to, d.from, d.data);
  EXPECT_EQ(gateway->counters().get("ike_retransmitted_responses"), retransmitted + 1);
  // The whole response again: as many datagrams as it had fragments.
  EXPECT_EQ(net.history().size(), sent_before + gateway->counters().get("ike_fragments_sent"));
  net.in_flight().clear();
  EXPECT_PAIR_CONSISTENT(1, "after forged fragments");
}

TEST_F(CertificatePairTest, UntrustedGatewayCertificateFailsTheClient) {
  use_certificates();
  // The gateway presents a certificate from a CA the client does not trust.
  auto stranger = std::make_shared<Credentials>();
  stranger->chain.push_back(Certificate::load(pki_path("stranger.pem")).value());
  stranger->key = PrivateKey::load(pki_path("stranger.key")).value();
  stranger->trust = gateway_config->credentials->trust;
  gateway_config->credentials = stranger;
  initiate();
  net.deliver_all();
  tick();
  EXPECT_EQ(client->ike_sa_count(), 0u);
  EXPECT_TRUE(client_host.logged("certificate rejected"));
  EXPECT_TRUE(client_host.backend.sas().empty());
  // The gateway had installed the child; the client's delete removes it.
  run_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(gateway->ike_sa_count(), 0u);
  EXPECT_TRUE(gateway_host.backend.sas().empty());
  EXPECT_TRUE(gateway_host.backend.policies().empty());
}

}  // namespace
}  // namespace traverse::ike::testing

namespace traverse::ike {
namespace {

// RFC 7296 2.4: a client that restarted authenticates with INITIAL_CONTACT;
// the gateway drops the older IKE SA of that identity and its child SAs.
using testing::IkePairTest;

TEST_F(IkePairTest, InitialContactReplacesTheOlderIkeSaOfThatPeer) {
  establish();
  if (HasFatalFailure())
    return;
  const uint64_t first = gateway_sa()->id();
  const uint32_t first_spi_in = gateway_sa()->children().begin()->second.spi_in;
  initiate();  // the same identity again, as after a client restart
  net.deliver_all();
  tick();  // the manager reaps the replaced SA
  std::size_t live = 0;
  uint64_t survivor = 0;
  gateway->for_each([&](const IkeSa& sa) {
    if (!sa.dead()) {
      ++live;
      survivor = sa.id();
    }
  });
  EXPECT_EQ(live, 1u);
  EXPECT_NE(survivor, first);
  EXPECT_EQ(gateway->counters().get("ike_replaced_by_initial_contact"), 1u);
  // The old child's inbound SA left the gateway's dataplane.
  EXPECT_EQ(gateway_host.backend.sas().count({first_spi_in, true}), 0u);
}

}  // namespace
}  // namespace traverse::ike
