#include "control/gateway/peer_config_builder.hh"

#include "control/ike/auth/certificate.hh"
#include "control/ike/auth/identity.hh"
#include "control/ike/auth/identity_pattern.hh"
#include "control/ike/auth/trust_store.hh"

namespace traverse::gateway {
namespace {

std::vector<ike::ProposalSpec> to_specs(const std::vector<AlgorithmProposal>& proposals) {
  std::vector<ike::ProposalSpec> out;
  for (const auto& p : proposals) {
    ike::ProposalSpec spec;
    for (const auto& t : p.transforms)
      spec.transforms.push_back({t.type, t.id, t.key_bits});
    out.push_back(std::move(spec));
  }
  return out;
}

Expected<std::shared_ptr<const ike::Credentials>, std::string> load_credentials(
    const IdentitySettings& identity) {
  auto creds = std::make_shared<ike::Credentials>();
  if (!identity.certificate.empty()) {
    auto chain = ike::load_certificate_chain(identity.certificate);
    if (!chain)
      return unexpected("identity.certificate: " + chain.error());
    creds->chain = std::move(*chain);
    auto key = ike::PrivateKey::load(identity.private_key);
    if (!key)
      return unexpected("identity.private_key: " + key.error());
    if (!key->matches(creds->chain.front())) {
      return unexpected(
          std::string("identity.private_key does not belong to identity.certificate"));
    }
    creds->key.emplace(std::move(*key));
  }
  auto trust = std::make_shared<ike::TrustStore>();
  for (const auto& ca : identity.ca) {
    auto r = trust->add_ca_file(ca);
    if (!r)
      return unexpected("identity.ca: " + r.error());
  }
  for (const auto& crl : identity.crl) {
    auto r = trust->add_crl_file(crl);
    if (!r)
      return unexpected("identity.crl: " + r.error());
  }
  creds->trust = std::move(trust);
  return std::shared_ptr<const ike::Credentials>(std::move(creds));
}

}  // namespace

asio::ip::address to_asio(const Address& address) {
  if (address.version == 4) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{
        address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3]});
  }
  return asio::ip::address_v6(address.bytes);
}

ike::TsRange to_range(const Cidr& cidr) {
  return ike::TsRange::from_prefix(to_asio(cidr.address), cidr.prefix);
}

ike::IkeSettings build_ike_settings(const ControlSettings& control) {
  ike::IkeSettings s;
  s.ike_port = control.ike_port;
  s.natt_port = control.natt_port;
  s.fragment_size = control.fragment_size;
  s.half_open_limit = control.half_open_limit;
  s.cookie_threshold = control.cookie_threshold;
  s.per_source_half_open = control.per_source_half_open;
  s.retransmit_timeout = std::chrono::milliseconds(control.retransmit_timeout_ms);
  s.retransmit_tries = control.retransmit_tries;
  s.nat_keepalive = std::chrono::seconds(control.nat_keepalive_s);
  s.max_ike_sas = control.max_ike_sas;
  return s;
}

Expected<BuiltPeers, std::string> build_peer_configs(const GatewayConfig& config) {
  auto creds = load_credentials(config.identity);
  if (!creds)
    return unexpected(creds.error());
  BuiltPeers out;
  for (const ConnectionSettings& c : config.connections) {
    const std::string where = "connection '" + c.name + "': ";
    auto peer = std::make_shared<ike::PeerConfig>();
    peer->name = c.name;
    auto local_id = ike::parse_identity(c.local_id.empty() ? config.identity.id : c.local_id);
    if (!local_id)
      return unexpected(where + "local id: " + local_id.error());
    peer->local_id = std::move(*local_id);
    auto pattern = ike::IdentityPattern::parse(c.remote_id);
    if (!pattern)
      return unexpected(where + "remote_id: " + pattern.error());
    peer->remote_id = std::move(*pattern);
    peer->local_auth = c.auth == AuthMethod::psk ? ike::AuthKind::psk : ike::AuthKind::pubkey;
    peer->remote_auth =
        c.remote_auth == AuthMethod::psk ? ike::AuthKind::psk : ike::AuthKind::pubkey;
    if (!c.psk.empty())
      peer->psk = std::make_shared<const ike::Secret>(c.psk.clone());
    peer->credentials = *creds;
    if (peer->local_auth == ike::AuthKind::pubkey && !(*creds)->key) {
      return unexpected(where + "auth = \"pubkey\" needs identity.certificate and private_key");
    }
    if (peer->remote_auth == ike::AuthKind::pubkey && (*creds)->trust->anchors().empty()) {
      return unexpected(where + "remote_auth = \"pubkey\" needs identity.ca");
    }
    peer->ike_proposals = to_specs(c.ike_proposals);
    peer->esp_proposals = to_specs(c.esp_proposals);
    for (const auto& ts : c.local_ts) {
      if (!ts.dynamic)
        peer->local_ts.push_back(to_range(ts.cidr));
    }
    peer->remote_ts_dynamic = false;
    for (const auto& ts : c.remote_ts) {
      if (ts.dynamic) {
        peer->remote_ts_dynamic = true;
      } else {
        peer->remote_ts.push_back(to_range(ts.cidr));
      }
    }
    peer->pools = c.pools;
    for (const auto& cidr : c.remote_addresses)
      peer->remote_addresses.push_back(to_range(cidr));
    if (c.initiate && !c.remote_addresses.empty()) {
      peer->remote = ike::Endpoint(to_asio(c.remote_addresses.front().address), c.remote_port);
    }
    peer->fragmentation = c.fragmentation;
    peer->force_encap = config.control.force_encap;
    peer->dpd_interval = std::chrono::seconds(c.dpd_interval_s);
    peer->ike_lifetime = std::chrono::seconds(c.ike_lifetime_s);
    peer->child_lifetime = std::chrono::seconds(c.child_lifetime_s);
    peer->child_lifetime_bytes = config.control.child_lifetime_bytes;
    if (c.initiate)
      out.to_initiate.push_back(peer);
    out.peers.push_back(std::move(peer));
  }
  return out;
}

}  // namespace traverse::gateway
