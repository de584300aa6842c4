// CREATE_CHILD_SA for child SAs (RFC 7296 1.3.1, 1.3.3): new children and
// rekeys, with optional PFS, from either side; rekey collisions resolved by
// the lowest nonce (2.8.1).
#include <algorithm>

#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"
#include "control/ike/sa/proposal_select.hh"
#include "control/ike/sa/traffic_selectors.hh"

namespace traverse::ike {
namespace {

constexpr std::size_t kNonceSize = 32;

const Bytes& lower(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()) ? a : b;
}

bool less_than(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

void IkeSa::send_create_child(ExchangeKind kind, uint64_t rekeyed_child) {
  ChildSa* old = nullptr;
  if (kind == ExchangeKind::rekey_child) {
    auto it = children_.find(rekeyed_child);
    if (it == children_.end() || it->second.state != ChildState::installed)
      return;
    old = &it->second;
    old->state = ChildState::rekeying;
  }
  PendingRequest pending;
  pending.child_id = rekeyed_child;
  pending.nonce = host_.make_nonce(kNonceSize);
  std::vector<Payload> out;
  if (old != nullptr) {
    out.push_back(make_notify(NotifyType::rekey_sa, {}, ProtocolId::esp, be32(old->spi_in)));
  }
  auto groups = dh_groups(config_->esp_proposals);
  const bool pfs = !groups.empty();
  // The KE goes with the group the peer asked for before, if we offer it.
  uint16_t group = pfs ? groups.front() : 0;
  if (child_pfs_group_ != 0 &&
      std::find(groups.begin(), groups.end(), child_pfs_group_) != groups.end())
    group = child_pfs_group_;
  offer_child(&out, &pending, pfs);
  if (old != nullptr) {
    // A rekey keeps the selectors of the SA it replaces.
    for (auto& p : out) {
      if (p.type == PayloadType::tsi)
        p.body = to_payload(old->local_ts);
      if (p.type == PayloadType::tsr)
        p.body = to_payload(old->remote_ts);
    }
  }
  // RFC 7296 3.10 order does not matter, but Ni must follow SA.
  auto sa_it = std::find_if(out.begin(), out.end(),
                            [](const Payload& p) { return p.type == PayloadType::sa; });
  std::size_t at = static_cast<std::size_t>(sa_it - out.begin()) + 1;
  out.insert(out.begin() + static_cast<long>(at),
             make_payload(PayloadType::nonce, NoncePayload{pending.nonce}));
  if (pfs) {
    pending.ke = KeyExchange::generate(group);
    if (!pending.ke) {
      log(LogLevel::error, "cannot generate a PFS key");
      if (old != nullptr)
        old->state = ChildState::installed;
      return;
    }
    out.insert(out.begin() + static_cast<long>(at + 1),
               make_payload(PayloadType::ke, KePayload{group, pending.ke->public_value()}));
  }
  send_request(kind, ExchangeType::create_child_sa, std::move(out), std::move(pending));
}

void IkeSa::process_create_child_request(uint32_t message_id, const std::vector<Payload>& inner) {
  auto answer_error = [&](NotifyType type, const std::string& why, Bytes data = {}) {
    log(LogLevel::info, "CREATE_CHILD_SA refused (" + std::string(to_string(type)) + "): " + why);
    manager_.counters().add("child_refused");
    send_response(ExchangeType::create_child_sa, message_id, {make_notify(type, std::move(data))});
  };
  const auto* nonce = find_body<NoncePayload>(inner, PayloadType::nonce);
  if (nonce == nullptr || nonce->data.size() < 16 || nonce->data.size() > 256) {
    answer_error(NotifyType::invalid_syntax, "no nonce");
    return;
  }
  ChildSa* old = nullptr;
  if (const auto* rekey = find_notify(inner, NotifyType::rekey_sa)) {
    auto spi = read_be32(rekey->spi);
    for (auto& [cid, c] : children_) {
      if (spi && c.spi_out == *spi && c.state != ChildState::deleting)
        old = &c;
    }
    if (old == nullptr) {
      answer_error(NotifyType::child_sa_not_found, "rekey of an unknown child SA");
      return;
    }
  }
  uint16_t pfs_group = 0;
  std::optional<KeyExchange> ke;
  Secret shared;
  if (const auto* kei = find_body<KePayload>(inner, PayloadType::ke)) {
    auto groups = dh_groups(config_->esp_proposals);
    if (std::find(groups.begin(), groups.end(), kei->group) == groups.end()) {
      uint16_t want = groups.empty() ? 0 : groups.front();
      if (want == 0) {
        answer_error(NotifyType::no_proposal_chosen, "PFS offered but none configured");
      } else {
        answer_error(NotifyType::invalid_ke_payload, "PFS group " + std::to_string(kei->group),
                     {static_cast<uint8_t>(want >> 8), static_cast<uint8_t>(want)});
      }
      return;
    }
    pfs_group = kei->group;
    ke = KeyExchange::generate(pfs_group);
    if (!ke) {
      answer_error(NotifyType::no_proposal_chosen, "unsupported PFS group");
      return;
    }
    auto s = ke->shared_secret(kei->data);
    if (!s) {
      answer_error(NotifyType::invalid_syntax, "bad KE: " + s.error());
      return;
    }
    shared = std::move(*s);
  }
  std::vector<Payload> out;
  ChildSa child;
  auto error = accept_child(inner, pfs_group, &child, &out);
  if (error) {
    answer_error(*error, "child negotiation failed");
    return;
  }
  Bytes nonce_r = host_.make_nonce(kNonceSize);
  out.insert(out.begin() + 1, make_payload(PayloadType::nonce, NoncePayload{nonce_r}));
  if (ke) {
    out.insert(out.begin() + 2,
               make_payload(PayloadType::ke, KePayload{pfs_group, ke->public_value()}));
  }
  if (!install_child(child, nonce->data, nonce_r, shared.view(), false)) {
    answer_error(NotifyType::temporary_failure, "dataplane refused the SA");
    return;
  }
  const uint64_t new_id = child.id;
  add_child(std::move(child));
  send_response(ExchangeType::create_child_sa, message_id, std::move(out));
  if (old != nullptr) {
    manager_.counters().add("child_rekeyed_by_peer");
    old->replaced_by_peer = new_id;
    old->peer_rekey_nonce = lower(nonce->data, nonce_r);
    if (old->replaced_by_ours != 0 && less_than(old->our_rekey_nonce, old->peer_rekey_nonce)) {
      // Collision, and our exchange had the lowest nonce: ours is redundant.
      log(LogLevel::info, "rekey collision: deleting our redundant child #" +
                              std::to_string(old->replaced_by_ours));
      request_delete_child(old->replaced_by_ours);
    }
    if (old->state == ChildState::installed) {
      // The peer rekeyed and will delete the old SA; keep it until then.
      old->state = ChildState::rekeyed;
      old->delete_at = host_.now() + std::chrono::seconds(30);
    }
  }
}

void IkeSa::process_create_child_response(PendingRequest& pending,
                                          const std::vector<Payload>& inner) {
  auto old_it = pending.kind == ExchangeKind::rekey_child ? children_.find(pending.child_id)
                                                          : children_.end();
  auto restore_old = [&]() {
    manager_.unregister_child(pending.new_spi_in);  // the SPI we offered is free again
    if (old_it != children_.end() && old_it->second.state == ChildState::rekeying) {
      old_it->second.state = ChildState::installed;
      // Try again later rather than let it expire.
      old_it->second.rekey_at = host_.now() + std::chrono::seconds(30);
    }
  };
  if (const auto* invalid_ke = find_notify(inner, NotifyType::invalid_ke_payload)) {
    // RFC 7296 1.3: retry at once with the group the responder names, if we
    // offer it and did not just use it.
    const auto groups = dh_groups(config_->esp_proposals);
    const uint16_t wanted =
        invalid_ke->data.size() == 2
            ? static_cast<uint16_t>((invalid_ke->data[0] << 8) | invalid_ke->data[1])
            : 0;
    if (pending.ke && wanted != pending.ke->group() &&
        std::find(groups.begin(), groups.end(), wanted) != groups.end()) {
      log(LogLevel::info, "peer wants PFS group " + std::to_string(wanted) + "; retrying");
      manager_.counters().add("child_invalid_ke_received");
      child_pfs_group_ = wanted;
      if (old_it != children_.end() && old_it->second.state == ChildState::rekeying)
        old_it->second.state = ChildState::installed;
      queue_.push_front({pending.kind, pending.child_id});
      return;
    }
    log(LogLevel::info, "peer wants another PFS group; retrying later");
    restore_old();
    return;
  }
  const auto* nonce = find_body<NoncePayload>(inner, PayloadType::nonce);
  ChildSa child;
  auto error = complete_child(inner, pending, &child);
  if (!error && (nonce == nullptr || nonce->data.size() < 16))
    error = "no nonce";
  Secret shared;
  if (!error && pending.ke) {
    const auto* ker = find_body<KePayload>(inner, PayloadType::ke);
    if (ker == nullptr || ker->group != pending.ke->group()) {
      error = "PFS requested but no matching KE in the response";
    } else {
      auto s = pending.ke->shared_secret(ker->data);
      if (!s) {
        error = "bad KE: " + s.error();
      } else {
        shared = std::move(*s);
      }
    }
  }
  if (error) {
    log(LogLevel::warning, "CREATE_CHILD_SA failed: " + *error);
    manager_.counters().add("child_create_failed");
    restore_old();
    return;
  }
  if (old_it != children_.end()) {
    child.local_ts = old_it->second.local_ts;
    child.remote_ts = old_it->second.remote_ts;
  }
  if (!install_child(child, pending.nonce, nonce->data, shared.view(), true)) {
    restore_old();
    return;
  }
  const uint64_t new_id = child.id;
  add_child(std::move(child));
  if (old_it == children_.end())
    return;
  ChildSa& old = old_it->second;
  manager_.counters().add("child_rekeyed");
  old.replaced_by_ours = new_id;
  old.our_rekey_nonce = lower(pending.nonce, nonce->data);
  if (old.replaced_by_peer != 0 && less_than(old.our_rekey_nonce, old.peer_rekey_nonce)) {
    log(LogLevel::info, "rekey collision: deleting our redundant child #" + std::to_string(new_id));
    request_delete_child(new_id);
  }
  // We rekeyed: we delete the old SA (RFC 7296 2.8).
  old.state = ChildState::rekeyed;
  request_delete_child(old.id);
}

}  // namespace traverse::ike
