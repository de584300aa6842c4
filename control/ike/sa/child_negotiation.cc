// Child SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA: proposal
// selection, selector narrowing (RFC 7296 2.9), key derivation (2.17) and
// installation in the IPsec backend with its outbound policies.
#include <algorithm>

#include "control/ike/crypto/key_material.hh"
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"
#include "control/ike/sa/proposal_select.hh"
#include "control/ike/sa/traffic_selectors.hh"

namespace traverse::ike {
namespace {

std::vector<TsRange> any_of_family(bool v4) {
  return {TsRange::from_prefix(v4 ? asio::ip::address(asio::ip::address_v4::any())
                                  : asio::ip::address(asio::ip::address_v6::any()),
                               0)};
}

}  // namespace

std::vector<TsRange> IkeSa::peer_allowed_ts() const {
  if (!config_->remote_ts.empty())
    return config_->remote_ts;
  std::vector<TsRange> out;
  for (const auto& a : virtual_ips_)
    out.push_back(TsRange::host(a));
  if (out.empty())
    out.push_back(TsRange::host(remote_.address()));
  return out;
}

std::vector<TsRange> IkeSa::local_allowed_ts() const {
  if (!config_->local_ts.empty())
    return config_->local_ts;
  // A client with a leased address sends from it, not from the outer one:
  // a child the gateway proposes (its rekeys) selects the virtual IP.
  if (config_->request_virtual_ip && !virtual_ips_.empty()) {
    std::vector<TsRange> out;
    for (const auto& a : virtual_ips_)
      out.push_back(TsRange::host(a));
    return out;
  }
  return {TsRange::host(local_.address())};
}

uint32_t IkeSa::allocate_child_spi() {
  return manager_.allocate_child_spi();
}
uint64_t IkeSa::next_child_id() {
  return manager_.next_child_id();
}

std::optional<NotifyType> IkeSa::accept_child(const std::vector<Payload>& request,
                                              uint16_t pfs_group, ChildSa* child,
                                              std::vector<Payload>* response) {
  const auto* sa = find_body<SaPayload>(request, PayloadType::sa);
  const auto* tsi = find_body<TsPayload>(request, PayloadType::tsi);
  const auto* tsr = find_body<TsPayload>(request, PayloadType::tsr);
  if (sa == nullptr || tsi == nullptr || tsr == nullptr)
    return NotifyType::invalid_syntax;
  // Our proposals, with the KE group of this exchange as the PFS group.
  std::vector<ProposalSpec> ours = config_->esp_proposals;
  if (pfs_group == 0) {
    for (auto& spec : ours) {
      std::erase_if(spec.transforms,
                    [](const ProposalTransform& t) { return t.type == kTransformDh; });
    }
  }
  auto selected = select_proposal(ours, sa->proposals, ProtocolId::esp);
  if (!selected || selected->spi.size() != 4)
    return NotifyType::no_proposal_chosen;
  if (pfs_group != 0) {
    auto group = transform_of(selected->chosen, kTransformDh);
    if (!group || group->id != pfs_group)
      return NotifyType::invalid_ke_payload;
  }
  // Initiator's selectors (TSi) describe the peer's side, TSr ours.
  const bool peer_is_initiator_of_exchange = true;
  (void)peer_is_initiator_of_exchange;
  auto peer_side = narrow(from_payload(*tsi), peer_allowed_ts());
  auto our_side = narrow(from_payload(*tsr), local_allowed_ts());
  if (peer_side.empty() || our_side.empty())
    return NotifyType::ts_unacceptable;

  child->id = next_child_id();
  child->name = config_->name;
  child->proposal = selected->chosen;
  child->spi_out = *read_be32(selected->spi);
  child->spi_in = allocate_child_spi();
  child->remote_ts = peer_side;
  child->local_ts = our_side;
  child->encap = encap();
  child->initiated_by_us = false;

  SaPayload answer;
  answer.proposals.push_back(
      to_proposal(child->proposal, selected->number, ProtocolId::esp, be32(child->spi_in)));
  response->push_back(make_payload(PayloadType::sa, std::move(answer)));
  response->push_back(make_payload(PayloadType::tsi, to_payload(peer_side)));
  response->push_back(make_payload(PayloadType::tsr, to_payload(our_side)));
  return std::nullopt;
}

void IkeSa::offer_child(std::vector<Payload>* out, PendingRequest* pending, bool with_pfs) {
  pending->new_spi_in = allocate_child_spi();
  pending->offered = config_->esp_proposals;
  if (!with_pfs) {
    for (auto& spec : pending->offered) {
      std::erase_if(spec.transforms,
                    [](const ProposalTransform& t) { return t.type == kTransformDh; });
    }
  }
  SaPayload sa;
  uint8_t number = 1;
  for (const auto& spec : pending->offered) {
    sa.proposals.push_back(to_proposal(spec, number++, ProtocolId::esp, be32(pending->new_spi_in)));
  }
  out->push_back(make_payload(PayloadType::sa, std::move(sa)));
  // With a virtual IP on the way, ask for "anything" and let the responder
  // narrow to the leased address.
  std::vector<TsRange> ours = config_->request_virtual_ip && virtual_ips_.empty()
                                  ? any_of_family(true)
                                  : local_allowed_ts();
  if (!virtual_ips_.empty() && config_->request_virtual_ip) {
    ours.clear();
    for (const auto& a : virtual_ips_)
      ours.push_back(TsRange::host(a));
  }
  std::vector<TsRange> theirs = config_->remote_ts.empty()
                                    ? std::vector<TsRange>{TsRange::host(remote_.address())}
                                    : config_->remote_ts;
  out->push_back(make_payload(PayloadType::tsi, to_payload(ours)));
  out->push_back(make_payload(PayloadType::tsr, to_payload(theirs)));
}

std::optional<std::string> IkeSa::complete_child(const std::vector<Payload>& response,
                                                 const PendingRequest& pending, ChildSa* child) {
  if (const auto* err = find_error_notify(response))
    return std::string(to_string(err->type));
  const auto* sa = find_body<SaPayload>(response, PayloadType::sa);
  const auto* tsi = find_body<TsPayload>(response, PayloadType::tsi);
  const auto* tsr = find_body<TsPayload>(response, PayloadType::tsr);
  if (sa == nullptr || tsi == nullptr || tsr == nullptr || sa->proposals.size() != 1) {
    return std::string("SA, TSi or TSr missing");
  }
  const Proposal& p = sa->proposals.front();
  ProposalSpec answer = to_spec(p);
  if (p.protocol != ProtocolId::esp || p.spi.size() != 4 ||
      !acceptable_answer(pending.offered, answer)) {
    return std::string("the responder chose a child proposal we did not offer");
  }
  auto ours = from_payload(*tsi);
  auto theirs = from_payload(*tsr);
  if (ours.empty() || theirs.empty())
    return std::string("empty traffic selectors");
  child->id = next_child_id();
  child->name = config_->name;
  child->proposal = std::move(answer);
  child->spi_in = pending.new_spi_in;
  child->spi_out = *read_be32(p.spi);
  child->local_ts = ours;
  child->remote_ts = theirs;
  child->encap = encap();
  child->initiated_by_us = true;
  return std::nullopt;
}

bool IkeSa::install_child(ChildSa& child, ByteView ni, ByteView nr, ByteView shared_secret,
                          bool we_initiated) {
  // AEAD: the 4-byte salt follows the key (RFC 4106 8.1); encr_key_length counts it.
  const std::size_t encr_len = encr_key_length(child.encr_id(), child.key_bits()).value_or(0);
  const std::size_t integ_len = integ_key_length(child.integ_id()).value_or(0);
  if (encr_len == 0) {
    log(LogLevel::error, "unsupported child cipher " + describe(child.proposal));
    return false;
  }
  auto derived = derive_child_keys(*crypto_.prf, crypto_.sk_d.view(), shared_secret, ni, nr,
                                   encr_len, integ_len);
  if (!derived) {
    log(LogLevel::error, "child key derivation failed: " + derived.error());
    return false;
  }
  ChildKeys& keys = *derived;
  // Keys "i" protect traffic from the exchange's initiator to its responder.
  if (we_initiated) {
    child.keys.encr_out = std::move(keys.encr_i);
    child.keys.integ_out = std::move(keys.integ_i);
    child.keys.encr_in = std::move(keys.encr_r);
    child.keys.integ_in = std::move(keys.integ_r);
  } else {
    child.keys.encr_in = std::move(keys.encr_i);
    child.keys.integ_in = std::move(keys.integ_i);
    child.keys.encr_out = std::move(keys.encr_r);
    child.keys.integ_out = std::move(keys.integ_r);
  }
  const TimePoint now = host_.now();
  child.installed_at = now;
  const auto lifetime = config_->child_lifetime;
  const auto jitter =
      std::chrono::seconds(lifetime.count() > 10 ? random_u64() % (lifetime.count() / 10) : 0);
  child.rekey_at = now + lifetime - jitter;
  child.expire_at = now + lifetime + lifetime / 10;
  child.state = ChildState::installed;

  auto install = [&](bool inbound) { return host_.ipsec().add_sa(install_record(child, inbound)); };
  auto in = install(true);
  if (!in) {
    log(LogLevel::error,
        "dataplane refused inbound SA " + std::to_string(child.spi_in) + ": " + in.error());
    manager_.counters().add("child_install_failed");
    manager_.unregister_child(child.spi_in);
    return false;
  }
  auto out = install(false);
  if (!out) {
    log(LogLevel::error, "dataplane refused outbound SA: " + out.error());
    (void)host_.ipsec().delete_sa(child.key(true));
    manager_.counters().add("child_install_failed");
    manager_.unregister_child(child.spi_in);
    return false;
  }
  manager_.register_child(child.spi_in, id_);
  for (const auto& ts : child.remote_ts) {
    if (ts.prefix_length() < 0) {
      log(LogLevel::warning, "selector " + ts.to_string() + " is no prefix; not routed");
      continue;
    }
    auto policy = host_.ipsec().add_policy(ts, child.key(false));
    if (!policy)
      log(LogLevel::warning, "policy " + ts.to_string() + ": " + policy.error());
  }
  manager_.counters().add("child_installed");
  char spis[64];
  snprintf(spis, sizeof spis, "%08x_i %08x_o", child.spi_in, child.spi_out);
  log(LogLevel::info, "child SA #" + std::to_string(child.id) + " installed (" + spis + ", " +
                          describe(child.proposal) + ", " + describe(child.local_ts) +
                          " === " + describe(child.remote_ts) + ")");
  return true;
}

void IkeSa::uninstall_child(ChildSa& child, bool inbound, bool outbound) {
  if (outbound && child.spi_out != 0) {
    for (const auto& ts : child.remote_ts) {
      if (ts.prefix_length() >= 0)
        (void)host_.ipsec().delete_policy(ts, child.key(false));
    }
    (void)host_.ipsec().delete_sa(child.key(false));
    manager_.child_spi_cleared(child, false);
    child.spi_out = 0;
  }
  if (inbound && child.spi_in != 0) {
    (void)host_.ipsec().delete_sa(child.key(true));
    manager_.unregister_child(child.spi_in);
    manager_.child_spi_cleared(child, true);
    child.spi_in = 0;
  }
  if (child.spi_in == 0 && child.spi_out == 0) {
    child.keys = ChildKeysHeld{};
  }
}

void IkeSa::destroy_children() {
  for (auto& [cid, child] : children_) {
    uninstall_child(child, true, true);
    manager_.child_removed(child);
  }
  children_.clear();
  if (config_assigned_ && config_) {
    host_.release_config(*config_, remote_id_text_);
    config_assigned_ = false;
  }
}

void IkeSa::on_child_expired(uint64_t child_id) {
  auto it = children_.find(child_id);
  if (it == children_.end())
    return;
  log(LogLevel::warning, "child SA #" + std::to_string(child_id) + " reached its hard lifetime");
  // The dataplane already removed the SA; drop the rest and tell the peer.
  request_delete_child(child_id);
}

void IkeSa::on_peer_moved(const Endpoint& remote) {
  if (remote == remote_)
    return;
  remote_ = remote;
  if (remote_.port() != manager_.settings().ike_port)
    remote_nat_ = true;
  manager_.counters().add("ike_peer_moved");
  for (auto& [cid, child] : children_) {
    child.encap = encap();
    if (child.spi_out != 0)
      (void)host_.ipsec().update_sa(child.key(false), local_, remote_, child.encap);
    if (child.spi_in != 0)
      (void)host_.ipsec().update_sa(child.key(true), local_, remote_, child.encap);
  }
}

void IkeSa::refresh_counters() {
  for (auto& [cid, child] : children_) {
    if (child.spi_in != 0) {
      if (auto c = host_.ipsec().counters(child.key(true)))
        child.in_counters = *c;
    }
    if (child.spi_out != 0) {
      if (auto c = host_.ipsec().counters(child.key(false))) {
        child.out_counters = *c;
        child.out_packets_seen = std::max(child.out_packets_seen, c->packets);
      }
    }
  }
}

ChildSaInstall IkeSa::install_record(const ChildSa& child, bool inbound) const {
  ChildSaInstall sa;
  sa.spi = inbound ? child.spi_in : child.spi_out;
  sa.inbound = inbound;
  sa.encr_id = child.encr_id();
  sa.key_bits = child.key_bits();
  sa.integ_id = child.integ_id();
  sa.esn = child.esn();
  sa.udp_encap = child.encap;
  sa.encr_key = inbound ? child.keys.encr_in.clone() : child.keys.encr_out.clone();
  sa.integ_key = inbound ? child.keys.integ_in.clone() : child.keys.integ_out.clone();
  sa.local = local_;
  sa.remote = remote_;
  sa.replay_window = config_->replay_window;
  if (config_->child_lifetime_bytes != 0) {
    sa.soft_bytes = config_->child_lifetime_bytes;
    sa.hard_bytes = config_->child_lifetime_bytes + config_->child_lifetime_bytes / 10;
  }
  sa.cookie = child.id;
  return sa;
}

void IkeSa::reinstall_children() {
  for (auto& [cid, child] : children_) {
    if (child.spi_in == 0 || child.spi_out == 0)
      continue;
    for (bool inbound : {true, false}) {
      ChildSaInstall sa = install_record(child, inbound);
      if (!inbound)
        sa.first_sequence = child.out_packets_seen + (uint64_t{1} << 22);
      auto r = host_.ipsec().add_sa(sa);
      if (!r)
        log(LogLevel::error, "re-install of child #" + std::to_string(cid) + ": " + r.error());
    }
    for (const auto& ts : child.remote_ts) {
      if (ts.prefix_length() >= 0)
        (void)host_.ipsec().add_policy(ts, child.key(false));
    }
  }
}

}  // namespace traverse::ike
