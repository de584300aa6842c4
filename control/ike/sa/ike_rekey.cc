// IKE SA rekeying with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.18): a new IKE SA
// with fresh SPIs, nonces and DH, keys from the old SK_d; the children move
// to it and the initiator of the rekey deletes the old one. When both ends
// rekey at once (2.8.2) each answers the other, leaving two new IKE SAs: the
// exchange holding the lowest of the four nonces made the redundant one,
// which its initiator deletes; the initiator of the other exchange deletes
// the old SA, and the children end up on the survivor on both ends.
#include <algorithm>
#include <utility>

#include "control/ike/crypto/key_material.hh"
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"
#include "control/ike/sa/proposal_select.hh"

namespace traverse::ike {
namespace {

constexpr std::size_t kNonceSize = 32;
// How long a superseded IKE SA waits for the peer's delete.
constexpr auto kSupersededGrace = std::chrono::seconds(60);

bool less_than(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// The nonces of one exchange, lowest first: exchanges compare by their lowest
// nonce (RFC 7296 2.8.2), then by the other, so both ends always agree.
std::pair<Bytes, Bytes> ordered(const Bytes& a, const Bytes& b) {
  return less_than(b, a) ? std::make_pair(b, a) : std::make_pair(a, b);
}

bool lower_exchange(const std::pair<Bytes, Bytes>& a, const std::pair<Bytes, Bytes>& b) {
  if (less_than(a.first, b.first))
    return true;
  return !less_than(b.first, a.first) && less_than(a.second, b.second);
}

// Derives the successor's keys (RFC 7296 2.18) and sets up its ciphers.
bool derive_rekeyed(IkeCrypto& old_crypto, const ProposalSpec& proposal, ByteView shared,
                    ByteView ni, ByteView nr, uint64_t spi_i, uint64_t spi_r, Role role,
                    IkeCrypto* out) {
  auto prf_id = transform_of(proposal, kTransformPrf);
  auto encr = transform_of(proposal, kTransformEncr);
  auto integ = transform_of(proposal, kTransformInteg);
  if (!prf_id || !encr)
    return false;
  out->prf = Prf::create(prf_id->id);
  auto lengths = ike_key_lengths(encr->id, encr->key_bits, integ ? integ->id : 0, prf_id->id);
  if (!out->prf || !lengths)
    return false;
  auto derived = derive_rekeyed_ike_keys(*old_crypto.prf, old_crypto.sk_d.view(), *out->prf, shared,
                                         ni, nr, spi_i, spi_r, *lengths);
  if (!derived)
    return false;
  IkeKeys& keys = *derived;
  const uint16_t integ_id = integ ? integ->id : 0;
  auto ci = SkCipher::create(encr->id, encr->key_bits, integ_id, keys.ei.view(), keys.ai.view());
  auto cr = SkCipher::create(encr->id, encr->key_bits, integ_id, keys.er.view(), keys.ar.view());
  if (!ci || !cr)
    return false;
  out->out = role == Role::initiator ? std::move(ci) : std::move(cr);
  out->in = role == Role::initiator ? std::move(cr) : std::move(ci);
  out->sk_d = std::move(keys.d);
  out->sk_pi = std::move(keys.pi);
  out->sk_pr = std::move(keys.pr);
  return true;
}

}  // namespace

void IkeSa::send_rekey_ike() {
  PendingRequest pending;
  pending.new_ike_spi = manager_.allocate_ike_spi();
  pending.nonce = host_.make_nonce(kNonceSize);
  pending.offered = config_->ike_proposals;
  const uint16_t group = dh_group_ != 0 ? dh_group_ : dh_groups(config_->ike_proposals).front();
  pending.ke = KeyExchange::generate(group);
  if (!pending.ke)
    return;
  std::vector<Payload> out;
  SaPayload sa;
  uint8_t number = 1;
  for (const auto& spec : config_->ike_proposals) {
    sa.proposals.push_back(to_proposal(spec, number++, ProtocolId::ike, be64(pending.new_ike_spi)));
  }
  out.push_back(make_payload(PayloadType::sa, std::move(sa)));
  out.push_back(make_payload(PayloadType::nonce, NoncePayload{pending.nonce}));
  out.push_back(make_payload(PayloadType::ke, KePayload{group, pending.ke->public_value()}));
  send_request(ExchangeKind::rekey_ike, ExchangeType::create_child_sa, std::move(out),
               std::move(pending));
}

void IkeSa::process_rekey_ike_request(uint32_t message_id, const std::vector<Payload>& inner) {
  auto refuse = [&](NotifyType type, const std::string& why, Bytes data = {}) {
    log(LogLevel::info, "IKE rekey refused (" + std::string(to_string(type)) + "): " + why);
    send_response(ExchangeType::create_child_sa, message_id, {make_notify(type, std::move(data))});
  };
  // RFC 7296 2.25.2: not while we create, rekey or delete a child SA on
  // this SA (or delete the SA). Our own rekey of it is a collision (2.8.2):
  // answered as usual, settled when our response arrives.
  const bool collision = pending_ && pending_->kind == ExchangeKind::rekey_ike;
  if (pending_ && pending_->kind != ExchangeKind::liveness && !collision) {
    refuse(NotifyType::temporary_failure, "an exchange of ours is in progress");
    return;
  }
  const auto* sa = find_body<SaPayload>(inner, PayloadType::sa);
  const auto* nonce = find_body<NoncePayload>(inner, PayloadType::nonce);
  const auto* ke = find_body<KePayload>(inner, PayloadType::ke);
  if (sa == nullptr || nonce == nullptr || ke == nullptr || nonce->data.size() < 16 ||
      nonce->data.size() > 256) {
    refuse(NotifyType::invalid_syntax, "SA, nonce or KE missing");
    return;
  }
  auto selected = select_proposal(config_->ike_proposals, sa->proposals, ProtocolId::ike);
  if (!selected || selected->spi.size() != 8) {
    refuse(NotifyType::no_proposal_chosen, "no common proposal");
    return;
  }
  auto group = transform_of(selected->chosen, kTransformDh);
  if (!group || group->id != ke->group) {
    uint16_t want = group ? group->id : 0;
    refuse(NotifyType::invalid_ke_payload, "KE group " + std::to_string(ke->group),
           {static_cast<uint8_t>(want >> 8), static_cast<uint8_t>(want)});
    return;
  }
  auto our_ke = KeyExchange::generate(ke->group);
  if (!our_ke) {
    refuse(NotifyType::no_proposal_chosen, "unsupported group");
    return;
  }
  auto shared = our_ke->shared_secret(ke->data);
  if (!shared) {
    refuse(NotifyType::invalid_syntax, "bad KE: " + shared.error());
    return;
  }
  const uint64_t new_spi_i = *read_be64(selected->spi);
  const uint64_t new_spi_r = manager_.allocate_ike_spi();
  Bytes nonce_r = host_.make_nonce(kNonceSize);
  IkeCrypto next_crypto;
  if (!derive_rekeyed(crypto_, selected->chosen, shared->view(), nonce->data, nonce_r, new_spi_i,
                      new_spi_r, Role::responder, &next_crypto)) {
    refuse(NotifyType::no_proposal_chosen, "unsupported algorithms");
    return;
  }
  std::vector<Payload> out;
  SaPayload answer;
  answer.proposals.push_back(
      to_proposal(selected->chosen, selected->number, ProtocolId::ike, be64(new_spi_r)));
  out.push_back(make_payload(PayloadType::sa, std::move(answer)));
  out.push_back(make_payload(PayloadType::nonce, NoncePayload{nonce_r}));
  out.push_back(make_payload(PayloadType::ke, KePayload{ke->group, our_ke->public_value()}));
  send_response(ExchangeType::create_child_sa, message_id, std::move(out));

  IkeSa& next = manager_.create_successor(Role::responder, local_, remote_, new_spi_i, new_spi_r);
  next.proposal_ = selected->chosen;
  next.dh_group_ = ke->group;
  next.nonce_i_ = nonce->data;
  next.nonce_r_ = nonce_r;
  next.crypto_ = std::move(next_crypto);
  manager_.counters().add("ike_rekeyed_by_peer");
  if (collision) {
    // Which new SA survives depends on our exchange's nonces: the children
    // wait here until our response (or its failure) tells.
    manager_.counters().add("ike_rekey_collision");
    log(LogLevel::info, "IKE rekey collision: answered the peer's rekey (IKE SA #" +
                            std::to_string(next.id_) + ") while ours is in flight");
    peer_successor_ = next.id_;
    peer_rekey_nonces_ = ordered(nonce->data, nonce_r);
    hand_over(next, false);
  } else {
    hand_over(next, true);
  }
  // The peer deletes this SA; if it never does, drop it after a while.
  state_ = IkeState::rekeyed;
  delete_at_ = host_.now() + kSupersededGrace;
}

void IkeSa::process_rekey_ike_response(PendingRequest& pending, const std::vector<Payload>& inner) {
  const auto* sa = find_body<SaPayload>(inner, PayloadType::sa);
  const auto* nonce = find_body<NoncePayload>(inner, PayloadType::nonce);
  const auto* ke = find_body<KePayload>(inner, PayloadType::ke);
  auto retry_later = [&](const std::string& why) {
    if (peer_successor_ != 0) {
      // We answered the peer's rekey meanwhile: that one stands.
      log(LogLevel::info, "IKE rekey failed (" + why + "); the peer's rekey replaces this SA");
      settle_collision();
      return;
    }
    log(LogLevel::info, "IKE rekey failed (" + why + "); retrying later");
    // A random delay: two peers whose rekeys collided (a peer that answers a
    // colliding rekey with TEMPORARY_FAILURE) must not retry in lockstep.
    rekey_at_ = host_.now() + std::chrono::seconds(10 + random_u64() % 21);
  };
  if (const auto* err = find_error_notify(inner)) {
    if (err->type == NotifyType::invalid_ke_payload && err->data.size() == 2) {
      dh_group_ = static_cast<uint16_t>((err->data[0] << 8) | err->data[1]);
    }
    retry_later(to_string(err->type));
    return;
  }
  if (sa == nullptr || nonce == nullptr || ke == nullptr || sa->proposals.size() != 1 ||
      sa->proposals[0].spi.size() != 8 || nonce->data.size() < 16) {
    retry_later("malformed response");
    return;
  }
  ProposalSpec answer = to_spec(sa->proposals[0]);
  if (!acceptable_answer(pending.offered, answer) || ke->group != pending.ke->group()) {
    retry_later("answer does not match the offer");
    return;
  }
  auto shared = pending.ke->shared_secret(ke->data);
  if (!shared) {
    retry_later("bad KE");
    return;
  }
  const uint64_t new_spi_r = *read_be64(sa->proposals[0].spi);
  IkeCrypto next_crypto;
  if (!derive_rekeyed(crypto_, answer, shared->view(), pending.nonce, nonce->data,
                      pending.new_ike_spi, new_spi_r, Role::initiator, &next_crypto)) {
    retry_later("unsupported algorithms");
    return;
  }
  IkeSa& next =
      manager_.create_successor(Role::initiator, local_, remote_, pending.new_ike_spi, new_spi_r);
  next.proposal_ = std::move(answer);
  next.dh_group_ = ke->group;
  next.nonce_i_ = pending.nonce;
  next.nonce_r_ = nonce->data;
  next.crypto_ = std::move(next_crypto);

  IkeSa* peer_next = live_peer_successor();
  peer_successor_ = 0;
  if (peer_next != nullptr &&
      lower_exchange(ordered(pending.nonce, nonce->data), peer_rekey_nonces_)) {
    // RFC 7296 2.8.2: our exchange holds the lowest nonce, so our new SA is
    // redundant and ours to delete; the peer rekeyed this SA and deletes it.
    log(LogLevel::info, "IKE rekey collision: our new IKE SA #" + std::to_string(next.id_) +
                            " is redundant; IKE SA #" + std::to_string(peer_next->id_) +
                            " takes over");
    inherit(next);
    next.state_ = IkeState::established;
    next.log(LogLevel::info, "redundant successor of IKE SA #" + std::to_string(id_) +
                                 " (rekey collision): deleting it");
    move_children(*peer_next);
    manager_.counters().add("ike_rekey_redundant_deleted");
    next.request_delete();  // on the redundant SA itself
    return;
  }
  hand_over(next, true);
  manager_.counters().add("ike_rekeyed");
  if (peer_next != nullptr) {
    // The peer's new SA is the redundant one: the peer deletes it.
    log(LogLevel::info, "IKE rekey collision: our new IKE SA #" + std::to_string(next.id_) +
                            " survives; the peer deletes its redundant IKE SA #" +
                            std::to_string(peer_next->id_));
    peer_next->state_ = IkeState::rekeyed;
    peer_next->delete_at_ = host_.now() + kSupersededGrace;
    redundant_successor_ = peer_next->id_;
    manager_.schedule(*peer_next);
  }
  // We rekeyed, so we delete the old SA (RFC 7296 2.18).
  state_ = IkeState::rekeyed;
  delete_at_ = host_.now() + kSupersededGrace;
  queue_.clear();
  queue_.push_back({ExchangeKind::delete_ike, 0});
}

void IkeSa::hand_over(IkeSa& next, bool with_children) {
  inherit(next);
  if (with_children)
    move_children(next);
  next.state_ = IkeState::established;
  next.log(LogLevel::info,
           "replaces IKE SA #" + std::to_string(id_) +
               (with_children ? "" : " (its child SAs follow once the collision settles)"));
  next.established();
}

void IkeSa::inherit(IkeSa& next) const {
  next.config_ = config_;
  next.candidates_ = candidates_;
  next.local_nat_ = local_nat_;
  next.remote_nat_ = remote_nat_;
  next.peer_fragmentation_ = peer_fragmentation_;
  next.peer_hash_algorithms_ = peer_hash_algorithms_;
  next.set_remote_id(remote_id_text_);
  next.local_id_text_ = local_id_text_;
  next.virtual_ips_ = virtual_ips_;
  next.received_config_ = received_config_;
  next.dpd_interval_ = dpd_interval_;
}

void IkeSa::move_children(IkeSa& to) {
  for (auto& [cid, child] : children_) {
    auto [it, fresh] = to.children_.emplace(cid, std::move(child));
    if (fresh)
      manager_.child_moved(it->second, to.id_);  // re-registers its inbound SPI too
  }
  children_.clear();
  if (config_assigned_) {
    to.config_assigned_ = true;  // the lease moves with the children
    config_assigned_ = false;
  }
  manager_.schedule(to);
}

IkeSa* IkeSa::live_peer_successor() const {
  if (peer_successor_ == 0)
    return nullptr;
  IkeSa* next = manager_.find(peer_successor_);
  return next != nullptr && next->state_ == IkeState::established ? next : nullptr;
}

void IkeSa::settle_collision() {
  IkeSa* next = live_peer_successor();
  peer_successor_ = 0;
  if (next == nullptr)
    return;
  log(LogLevel::info, "IKE rekey collision settled: IKE SA #" + std::to_string(next->id_) +
                          " made by the peer takes over");
  move_children(*next);
}

void IkeSa::drop_redundant_successor() {
  const uint64_t id = std::exchange(redundant_successor_, 0);
  IkeSa* redundant = id != 0 ? manager_.find(id) : nullptr;
  if (redundant == nullptr || redundant->dead())
    return;
  // The peer never learnt of it (our answer creating it was lost and the
  // old SA is gone), so no delete will come for it.
  redundant->log(LogLevel::info, "redundant IKE SA of a rekey collision dropped");
  manager_.counters().add("ike_rekey_redundant_dropped");
  redundant->destroy_children();
  redundant->die();
}

}  // namespace traverse::ike
