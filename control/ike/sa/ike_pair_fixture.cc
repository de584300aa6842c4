#include "control/ike/sa/ike_pair_fixture.hh"

#include <algorithm>

#include "control/ike/auth/identity.hh"

namespace traverse::ike::testing {
namespace {

constexpr uint8_t kTypeEncr = 1;
constexpr uint8_t kTypePrf = 2;
constexpr uint8_t kTypeDh = 4;
constexpr uint8_t kTypeEsn = 5;

std::shared_ptr<const Secret> make_psk(std::string_view text) {
  return std::make_shared<const Secret>(as_bytes(text));
}

std::vector<InstalledPolicy> expected_policies(const IkeSa& sa) {
  std::vector<InstalledPolicy> out;
  for (const auto& [id, child] : sa.children()) {
    for (const auto& ts : child.remote_ts)
      out.push_back({ts, child.key(false)});
  }
  return out;
}

bool same_policies(std::vector<InstalledPolicy> a, std::vector<InstalledPolicy> b) {
  return a.size() == b.size() && std::is_permutation(a.begin(), a.end(), b.begin());
}

// One direction: `sender` protects with `spi`, `receiver` opens with it.
void expect_same_keys(const FakeBackend& sender, const FakeBackend& receiver, uint32_t spi,
                      bool mirror_addresses) {
  SCOPED_TRACE("SPI " + std::to_string(spi));
  const InstalledSa* out = sender.find(spi, false);
  const InstalledSa* in = receiver.find(spi, true);
  ASSERT_NE(out, nullptr) << "outbound SA missing in the sender's dataplane";
  ASSERT_NE(in, nullptr) << "inbound SA missing in the receiver's dataplane";
  EXPECT_FALSE(out->encr_key.empty());
  EXPECT_EQ(out->encr_key, in->encr_key);
  EXPECT_EQ(out->integ_key, in->integ_key);
  EXPECT_EQ(out->encr_id, in->encr_id);
  EXPECT_EQ(out->key_bits, in->key_bits);
  EXPECT_EQ(out->integ_id, in->integ_id);
  EXPECT_EQ(out->udp_encap, in->udp_encap);
  if (mirror_addresses) {
    EXPECT_EQ(out->local.address(), in->remote.address());
    EXPECT_EQ(out->remote.address(), in->local.address());
  }
}

}  // namespace

ProposalSpec ike_proposal(uint16_t encr, std::vector<uint16_t> groups) {
  ProposalSpec spec;
  spec.transforms.push_back({kTypeEncr, encr, 256});
  spec.transforms.push_back({kTypePrf, kPrfSha256Id, 0});
  if (encr == kEncrAesCbcId)
    spec.transforms.push_back({3, kIntegSha256Id, 0});
  for (uint16_t g : groups)
    spec.transforms.push_back({kTypeDh, g, 0});
  return spec;
}

ProposalSpec esp_proposal(uint16_t encr, std::vector<uint16_t> pfs_groups) {
  ProposalSpec spec;
  spec.transforms.push_back({kTypeEncr, encr, 256});
  if (encr == kEncrAesCbcId)
    spec.transforms.push_back({3, kIntegSha256Id, 0});
  for (uint16_t g : pfs_groups)
    spec.transforms.push_back({kTypeDh, g, 0});
  spec.transforms.push_back({kTypeEsn, 0, 0});
  return spec;
}

TsRange prefix(const std::string& address, unsigned length) {
  return TsRange::from_prefix(asio::ip::make_address(address), length);
}

IkePairTest::IkePairTest()
    : client_endpoint(asio::ip::make_address("192.0.2.10"), 500),
      gateway_endpoint(asio::ip::make_address("192.0.2.1"), 500),
      client_config(std::make_shared<PeerConfig>()),
      gateway_config(std::make_shared<PeerConfig>()) {
  const auto psk = make_psk("correct horse battery staple");

  PeerConfig& c = *client_config;
  c.name = "to-gateway";
  c.local_id = parse_identity("fqdn:client.traverse.lab").value();
  c.remote_id = IdentityPattern::parse("gw.traverse.lab").value();
  c.psk = psk;
  c.ike_proposals = {ike_proposal(kEncrAesGcm16Id, {kGroupEcp256Id})};
  c.esp_proposals = {esp_proposal(kEncrAesGcm16Id)};
  c.remote_ts = {prefix("10.1.0.0", 16)};
  c.remote_ts_dynamic = false;
  c.remote = gateway_endpoint;

  PeerConfig& g = *gateway_config;
  g.name = "roadwarriors";
  g.local_id = parse_identity("fqdn:gw.traverse.lab").value();
  g.remote_id = IdentityPattern::parse("*.traverse.lab").value();
  g.psk = psk;
  g.ike_proposals = {ike_proposal(kEncrAesGcm16Id, {kGroupEcp256Id})};
  g.esp_proposals = {esp_proposal(kEncrAesGcm16Id)};
  g.local_ts = {prefix("10.1.0.0", 16)};

  // Retransmit every 1 s, as the daemon does; timers short enough to test.
  client_settings.retransmit_timeout = std::chrono::milliseconds(1000);
  gateway_settings.retransmit_timeout = std::chrono::milliseconds(1000);
}

IkePairTest::~IkePairTest() {
  // Managers first: their SAs call into the hosts while going away.
  client.reset();
  gateway.reset();
}

void IkePairTest::start() {
  gateway_host.configs = {gateway_config};
  client = std::make_unique<IkeSaManager>(client_host, client_settings);
  gateway = std::make_unique<IkeSaManager>(gateway_host, gateway_settings);
  net.attach(client_endpoint.address(), client.get());
  net.attach(gateway_endpoint.address(), gateway.get());
  net.after_delivery = [this] { expect_indexes_consistent(); };
}

void IkePairTest::expect_indexes_consistent() {
  if (client) {
    EXPECT_EQ(client->audit(), "") << "client manager";
  }
  if (gateway) {
    EXPECT_EQ(gateway->audit(), "") << "gateway manager";
  }
}

uint64_t IkePairTest::initiate() {
  if (!client)
    start();
  return client->initiate(client_config, client_endpoint);
}

void IkePairTest::establish() {
  initiate();
  net.deliver_all();
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  ASSERT_NE(c, nullptr);
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(c->state(), IkeState::established);
  ASSERT_EQ(g->state(), IkeState::established);
  ASSERT_EQ(c->children().size(), 1u);
}

IkeSa* IkePairTest::live_sa(IkeSaManager& manager) {
  IkeSa* found = nullptr;
  std::size_t live = 0;
  manager.for_each([&](const IkeSa& sa) {
    if (!sa.dead()) {
      ++live;
      found = manager.find(sa.id());
    }
  });
  EXPECT_EQ(live, 1u) << "live IKE SAs";
  return live == 1 ? found : nullptr;
}

uint64_t IkePairTest::only_child(const IkeSa& sa) {
  return sa.children().size() == 1 ? sa.children().begin()->first : 0;
}

void IkePairTest::tick() {
  if (client)
    client->tick(net.now());
  if (gateway)
    gateway->tick(net.now());
  expect_indexes_consistent();
}

void IkePairTest::run_for(std::chrono::milliseconds total, std::chrono::milliseconds step) {
  for (std::chrono::milliseconds done{0}; done < total; done += step) {
    net.advance(step);
    tick();
    net.deliver_all();
  }
}

void IkePairTest::expect_consistent(std::size_t children) {
  IkeSa* c = client_sa();
  IkeSa* g = gateway_sa();
  ASSERT_NE(c, nullptr);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(c->state(), IkeState::established);
  EXPECT_EQ(g->state(), IkeState::established);
  EXPECT_NE(c->role(), g->role());
  EXPECT_NE(c->spi_i(), 0u);
  EXPECT_NE(c->spi_r(), 0u);
  EXPECT_EQ(c->spi_i(), g->spi_i());
  EXPECT_EQ(c->spi_r(), g->spi_r());
  EXPECT_EQ(c->proposal().transforms, g->proposal().transforms);
  ASSERT_EQ(c->children().size(), children);
  ASSERT_EQ(g->children().size(), children);
  for (const auto& [id, cc] : c->children()) {
    SCOPED_TRACE("client child #" + std::to_string(id));
    EXPECT_EQ(cc.state, ChildState::installed);
    const ChildSa* gc = nullptr;
    for (const auto& [gid, candidate] : g->children()) {
      if (candidate.spi_out == cc.spi_in)
        gc = &candidate;
    }
    ASSERT_NE(gc, nullptr) << "no gateway child sends to client SPI " << cc.spi_in;
    EXPECT_EQ(gc->state, ChildState::installed);
    EXPECT_EQ(gc->spi_in, cc.spi_out);
    EXPECT_NE(cc.spi_in, 0u);
    EXPECT_NE(cc.spi_out, 0u);
    EXPECT_EQ(cc.local_ts, gc->remote_ts);
    EXPECT_EQ(cc.remote_ts, gc->local_ts);
    EXPECT_EQ(cc.proposal.transforms, gc->proposal.transforms);
    expect_same_keys(client_host.backend, gateway_host.backend, cc.spi_out, !nat_in_path);
    expect_same_keys(gateway_host.backend, client_host.backend, cc.spi_in, !nat_in_path);
    const InstalledSa* in = client_host.backend.find(cc.spi_in, true);
    const InstalledSa* out = client_host.backend.find(cc.spi_out, false);
    if (in != nullptr && out != nullptr) {
      EXPECT_NE(in->encr_key, out->encr_key) << "both directions share a key";
    }
  }
  // Nothing else in either dataplane.
  EXPECT_EQ(client_host.backend.sas().size(), 2 * children);
  EXPECT_EQ(gateway_host.backend.sas().size(), 2 * children);
  EXPECT_TRUE(same_policies(client_host.backend.policies(), expected_policies(*c)));
  EXPECT_TRUE(same_policies(gateway_host.backend.policies(), expected_policies(*g)));
  EXPECT_EQ(client_host.backend.bad_calls, 0u);
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
  EXPECT_EQ(client->half_open_count(), 0u);
  EXPECT_EQ(gateway->half_open_count(), 0u);
  expect_indexes_consistent();
}

void IkePairTest::expect_nothing_left() {
  for (IkeSaManager* m : {client.get(), gateway.get()}) {
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->ike_sa_count(), 0u);
    EXPECT_EQ(m->child_sa_count(), 0u);
    EXPECT_EQ(m->half_open_count(), 0u);
  }
  EXPECT_TRUE(client_host.backend.sas().empty());
  EXPECT_TRUE(gateway_host.backend.sas().empty());
  EXPECT_TRUE(client_host.backend.policies().empty());
  EXPECT_TRUE(gateway_host.backend.policies().empty());
  EXPECT_EQ(client_host.backend.bad_calls, 0u);
  EXPECT_EQ(gateway_host.backend.bad_calls, 0u);
  expect_indexes_consistent();
}

}  // namespace traverse::ike::testing
