// IKE_AUTH (RFC 7296 1.2, 2.15): identities, PSK or certificate
// authentication, Office Mode configuration and the first child SA, for both
// roles.
#include <algorithm>

#include "control/ike/auth/signature_auth.hh"
#include "control/ike/crypto/psk_auth.hh"
#include "control/ike/sa/config_payload.hh"
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"
#include "control/ike/sa/proposal_select.hh"
#include "control/ike/sa/traffic_selectors.hh"

namespace traverse::ike {
namespace {

constexpr uint8_t kAuthPsk = 2;

IdPayload id_payload(const Identity& id) {
  IdPayload p;
  p.type = static_cast<decltype(p.type)>(id.type);
  p.data = id.data;
  return p;
}

Identity identity_of(const IdPayload& p) {
  Identity id;
  id.type = static_cast<uint8_t>(p.type);
  id.data = p.data;
  return id;
}

}  // namespace

Bytes IkeSa::auth_octets(bool ours, ByteView id_body) const {
  // The initiator signs its IKE_SA_INIT request, the responder's nonce and
  // prf(SK_pi, IDi'); the responder its response, Ni and prf(SK_pr, IDr').
  const bool initiator_side = ours == (role_ == Role::initiator);
  if (initiator_side) {
    return signed_octets(init_request_, nonce_r_, *crypto_.prf, crypto_.sk_pi.view(), id_body);
  }
  return signed_octets(init_response_, nonce_i_, *crypto_.prf, crypto_.sk_pr.view(), id_body);
}

std::optional<Payload> IkeSa::build_auth(ByteView id_body,
                                         const std::vector<uint16_t>& peer_hashes) {
  Bytes octets = auth_octets(true, id_body);
  if (config_->local_auth == AuthKind::psk) {
    if (!config_->psk)
      return std::nullopt;
    Secret value = psk_auth_value(*crypto_.prf, config_->psk->view(), octets);
    return make_payload(PayloadType::auth,
                        AuthPayload{static_cast<AuthMethod>(kAuthPsk),
                                    Bytes(value.view().begin(), value.view().end())});
  }
  if (!config_->credentials || !config_->credentials->key)
    return std::nullopt;
  auto signature = sign_auth(*config_->credentials->key, octets, peer_hashes);
  if (!signature) {
    log(LogLevel::error, "cannot sign AUTH: " + signature.error());
    return std::nullopt;
  }
  return make_payload(PayloadType::auth, AuthPayload{static_cast<AuthMethod>(signature->method),
                                                     std::move(signature->data)});
}

bool IkeSa::verify_auth(const std::vector<Payload>& inner, const PeerConfig& config,
                        ByteView id_body, std::string* why) {
  const auto* auth = find_body<AuthPayload>(inner, PayloadType::auth);
  if (auth == nullptr) {
    *why = "no AUTH payload";
    return false;
  }
  Bytes octets = auth_octets(false, id_body);
  const auto method = static_cast<uint8_t>(auth->method);
  if (config.remote_auth == AuthKind::psk) {
    if (method != kAuthPsk || !config.psk) {
      *why = "peer used AUTH method " + std::to_string(method) + ", PSK required";
      return false;
    }
    if (!psk_auth_verify(*crypto_.prf, config.psk->view(), octets, auth->data)) {
      *why = "PSK AUTH mismatch";
      return false;
    }
    return true;
  }
  if (method == kAuthPsk) {
    *why = "peer used a PSK, a certificate is required";
    return false;
  }
  auto certs = find_all<CertPayload>(inner, PayloadType::cert);
  if (certs.empty()) {
    *why = "no certificate sent";
    return false;
  }
  if (!config.credentials || !config.credentials->trust) {
    *why = "no trust anchors configured";
    return false;
  }
  std::vector<Bytes> intermediates;
  for (std::size_t i = 1; i < certs.size(); ++i)
    intermediates.push_back(certs[i]->data);
  auto leaf = config.credentials->trust->verify(certs[0]->data, intermediates, time(nullptr));
  if (!leaf) {
    *why = "certificate rejected: " + leaf.error();
    return false;
  }
  const auto* id =
      find_body<IdPayload>(inner, role_ == Role::responder ? PayloadType::idi : PayloadType::idr);
  if (id == nullptr || !leaf->certifies(identity_of(*id))) {
    *why = "certificate does not certify the identity " + remote_id_text_;
    return false;
  }
  auto verified = ::traverse::ike::verify_auth(*leaf, method, auth->data, octets);
  if (!verified) {
    *why = "signature rejected: " + verified.error();
    return false;
  }
  return true;
}

void IkeSa::send_auth_request() {
  std::vector<Payload> out;
  IdPayload idi = id_payload(config_->local_id);
  const Bytes idi_body = id_payload_body(idi);
  out.push_back(make_payload(PayloadType::idi, idi));
  if (config_->local_auth == AuthKind::pubkey && config_->credentials) {
    for (const auto& cert : config_->credentials->chain) {
      out.push_back(
          make_payload(PayloadType::cert, CertPayload{CertEncoding::x509_signature, cert.der()}));
    }
  }
  if (config_->remote_auth == AuthKind::pubkey && config_->credentials &&
      config_->credentials->trust) {
    Bytes hashes;
    for (const Bytes& h : config_->credentials->trust->certreq_hashes()) {
      hashes.insert(hashes.end(), h.begin(), h.end());
    }
    out.push_back(
        make_payload(PayloadType::certreq, CertReqPayload{CertEncoding::x509_signature, hashes}));
  }
  auto auth = build_auth(idi_body, peer_hash_algorithms_);
  if (!auth) {
    fail("no credentials to authenticate with");
    return;
  }
  out.push_back(std::move(*auth));
  out.push_back(make_notify(NotifyType::initial_contact));
  if (config_->request_virtual_ip) {
    out.push_back(make_payload(PayloadType::cp, build_request(true, false)));
  }
  PendingRequest pending;
  offer_child(&out, &pending, false);
  send_request(ExchangeKind::ike_auth, ExchangeType::ike_auth, std::move(out), std::move(pending));
}

void IkeSa::process_auth_request(uint32_t message_id, const std::vector<Payload>& inner) {
  auto refuse = [&](NotifyType type, const std::string& why) {
    log(LogLevel::warning, "IKE_AUTH refused (" + std::string(to_string(type)) + "): " + why);
    manager_.counters().add("ike_auth_failed");
    send_response(ExchangeType::ike_auth, message_id, {make_notify(type)});
    destroy_children();
    die();
  };
  const auto* idi = find_body<IdPayload>(inner, PayloadType::idi);
  const auto* auth = find_body<AuthPayload>(inner, PayloadType::auth);
  if (idi == nullptr || auth == nullptr) {
    refuse(NotifyType::authentication_failed, "IDi or AUTH missing");
    return;
  }
  if (find_body<EapPayload>(inner, PayloadType::eap) != nullptr) {
    refuse(NotifyType::authentication_failed, "EAP is not supported");
    return;
  }
  const Identity peer = identity_of(*idi);
  set_remote_id(to_string(peer));
  peer_certreqs_.clear();
  for (const auto* c : find_all<CertReqPayload>(inner, PayloadType::certreq)) {
    for (std::size_t i = 0; i + 20 <= c->data.size(); i += 20) {
      peer_certreqs_.emplace_back(c->data.begin() + static_cast<long>(i),
                                  c->data.begin() + static_cast<long>(i + 20));
    }
  }
  const Bytes idi_body = id_payload_body(*idi);
  const bool peer_psk = static_cast<uint8_t>(auth->method) == kAuthPsk;
  std::string why = "no connection matches identity " + remote_id_text_;
  std::shared_ptr<const PeerConfig> chosen;
  for (const auto& c : candidates_) {
    if (!c->remote_id.matches(peer))
      continue;
    if ((c->remote_auth == AuthKind::psk) != peer_psk)
      continue;
    if (!acceptable_answer(c->ike_proposals, proposal_))
      continue;
    if (verify_auth(inner, *c, idi_body, &why)) {
      chosen = c;
      break;
    }
  }
  if (!chosen) {
    refuse(NotifyType::authentication_failed, why);
    return;
  }
  config_ = chosen;
  // RFC 7296 2.4: INITIAL_CONTACT says the peer kept no state; its older IKE
  // SAs go (without a delete it could not read) before its lease is looked
  // up, so a returning client gets its address back.
  if (find_notify(inner, NotifyType::initial_contact) != nullptr) {
    manager_.on_initial_contact(*this);
  }
  dpd_interval_ = config_->dpd_interval;
  local_id_text_ = to_string(config_->local_id);

  std::vector<Payload> out;
  IdPayload idr = id_payload(config_->local_id);
  out.push_back(make_payload(PayloadType::idr, idr));
  if (config_->local_auth == AuthKind::pubkey && config_->credentials) {
    for (const auto& cert : config_->credentials->chain) {
      out.push_back(
          make_payload(PayloadType::cert, CertPayload{CertEncoding::x509_signature, cert.der()}));
    }
  }
  auto our_auth = build_auth(id_payload_body(idr), peer_hash_algorithms_);
  if (!our_auth) {
    refuse(NotifyType::authentication_failed, "no credentials to answer with");
    return;
  }
  out.push_back(std::move(*our_auth));

  // Office Mode: lease addresses before narrowing, since "dynamic" selectors
  // resolve to them.
  bool child_possible = true;
  if (const auto* cp = find_body<CpPayload>(inner, PayloadType::cp)) {
    ConfigRequest request = read_request(*cp);
    if ((request.want_v4 || request.want_v6) && !config_->pools.empty()) {
      auto assigned =
          host_.assign_config(*config_, remote_id_text_, request.want_v4, request.want_v6);
      if (assigned) {
        virtual_ips_ = assigned->addresses;
        config_assigned_ = true;
        out.push_back(make_payload(PayloadType::cp, build_reply(*assigned)));
      } else {
        log(LogLevel::warning, "no address for the peer: " + assigned.error());
        out.push_back(make_notify(NotifyType::internal_address_failure));
        child_possible = false;
      }
    }
  }
  state_ = IkeState::established;  // authenticated: the child below may install
  if (child_possible && find_body<SaPayload>(inner, PayloadType::sa) != nullptr) {
    ChildSa child;
    auto error = accept_child(inner, 0, &child, &out);
    if (error) {
      out.push_back(make_notify(*error));
      log(LogLevel::warning, std::string("first child refused: ") + to_string(*error));
    } else if (install_child(child, nonce_i_, nonce_r_, {}, false)) {
      add_child(std::move(child));
    } else {
      // Drop the SA/TS payloads we appended: no child after all.
      std::erase_if(out, [](const Payload& p) {
        return p.type == PayloadType::sa || p.type == PayloadType::tsi ||
               p.type == PayloadType::tsr;
      });
      out.push_back(make_notify(NotifyType::temporary_failure));
    }
  }
  send_response(ExchangeType::ike_auth, message_id, std::move(out));
  established();
}

void IkeSa::process_auth_response(PendingRequest& pending, const std::vector<Payload>& inner) {
  const auto* idr = find_body<IdPayload>(inner, PayloadType::idr);
  if (idr == nullptr || find_body<AuthPayload>(inner, PayloadType::auth) == nullptr) {
    const auto* err = find_error_notify(inner);
    fail(std::string("IKE_AUTH refused: ") + (err ? to_string(err->type) : "no IDr/AUTH"));
    return;
  }
  const Identity peer = identity_of(*idr);
  set_remote_id(to_string(peer));
  if (!config_->remote_id.matches(peer)) {
    fail("responder identity " + remote_id_text_ + " does not match the configured one");
    return;
  }
  std::string why;
  if (!verify_auth(inner, *config_, id_payload_body(*idr), &why)) {
    fail("responder authentication failed: " + why);
    send_delete_ike();
    return;
  }
  if (const auto* cp = find_body<CpPayload>(inner, PayloadType::cp)) {
    received_config_ = read_reply(*cp);
    virtual_ips_ = received_config_.addresses;
  }
  state_ = IkeState::established;
  if (find_body<SaPayload>(inner, PayloadType::sa) != nullptr) {
    ChildSa child;
    auto error = complete_child(inner, pending, &child);
    if (error) {
      log(LogLevel::warning, "first child failed: " + *error);
      manager_.unregister_child(pending.new_spi_in);  // the SPI we offered is free again
    } else if (install_child(child, nonce_i_, nonce_r_, {}, true)) {
      add_child(std::move(child));
    }
  } else {
    manager_.unregister_child(pending.new_spi_in);
    if (const auto* err = find_error_notify(inner)) {
      log(LogLevel::warning, std::string("first child refused: ") + to_string(err->type));
    }
  }
  established();
}

void IkeSa::established() {
  const TimePoint now = host_.now();
  established_at_ = now;
  last_heard_ = now;
  const auto lifetime = config_->ike_lifetime;
  // Up to 10% jitter, so both ends (and many SAs) do not rekey at once.
  const auto jitter =
      std::chrono::seconds(lifetime.count() > 10 ? random_u64() % (lifetime.count() / 10) : 0);
  rekey_at_ = now + lifetime - jitter;
  manager_.half_open_done(*this);
  manager_.counters().add("ike_established");
  log(LogLevel::info, "IKE SA established (" + describe(proposal_) + ", " +
                          std::to_string(children_.size()) + " child SA" +
                          (encap() ? ", UDP-encapsulated" : "") + ")");
  start_next_exchange();
}

}  // namespace traverse::ike
