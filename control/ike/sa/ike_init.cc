// IKE_SA_INIT (RFC 7296 1.2): proposals, key exchange, nonces, NAT
// detection, COOKIE and INVALID_KE_PAYLOAD handling, for both roles.
#include <algorithm>

#include "control/ike/crypto/key_material.hh"
#include "control/ike/sa/ike_sa.hh"
#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"
#include "control/ike/sa/proposal_select.hh"

namespace traverse::ike {
namespace {

constexpr std::size_t kNonceSize = 32;
// RFC 7427 hash algorithm identifiers we verify and sign with.
const Bytes kSignatureHashes = {0, 2, 0, 3, 0, 4};  // SHA2-256, -384, -512

std::vector<uint16_t> parse_hashes(const NotifyPayload* n) {
  std::vector<uint16_t> out;
  if (n == nullptr)
    return out;
  for (std::size_t i = 0; i + 1 < n->data.size(); i += 2) {
    out.push_back(static_cast<uint16_t>((n->data[i] << 8) | n->data[i + 1]));
  }
  return out;
}

std::vector<Bytes> certreq_hashes(const std::vector<Payload>& payloads) {
  std::vector<Bytes> out;
  for (const auto* c : find_all<CertReqPayload>(payloads, PayloadType::certreq)) {
    for (std::size_t i = 0; i + 20 <= c->data.size(); i += 20) {
      out.emplace_back(c->data.begin() + static_cast<long>(i),
                       c->data.begin() + static_cast<long>(i + 20));
    }
  }
  return out;
}

}  // namespace

void IkeSa::detect_nat(const Message& message, bool as_responder) {
  const uint64_t spi_r = as_responder ? 0 : spi_r_;
  bool saw_source = false, source_match = false, saw_dest = false, dest_match = false;
  const Bytes expect_source = nat_detection_hash(spi_i_, spi_r, remote_);
  const Bytes expect_dest = nat_detection_hash(spi_i_, spi_r, local_);
  for (const Payload& p : message.payloads) {
    const auto* n = std::get_if<NotifyPayload>(&p.body);
    if (n == nullptr)
      continue;
    if (n->type == NotifyType::nat_detection_source_ip) {
      saw_source = true;
      source_match = source_match || n->data == expect_source;
    } else if (n->type == NotifyType::nat_detection_destination_ip) {
      saw_dest = true;
      dest_match = dest_match || n->data == expect_dest;
    }
  }
  remote_nat_ = saw_source && !source_match;
  local_nat_ = saw_dest && !dest_match;
  if (remote_nat_ || local_nat_) {
    log(LogLevel::info, std::string("NAT detected:") + (remote_nat_ ? " peer behind NAT" : "") +
                            (local_nat_ ? " we are behind NAT" : ""));
  }
}

void IkeSa::start_initiator(std::shared_ptr<const PeerConfig> config) {
  config_ = std::move(config);
  dpd_interval_ = config_->dpd_interval;
  spi_i_ = manager_.allocate_ike_spi();
  local_id_text_ = to_string(config_->local_id);
  auto groups = dh_groups(config_->ike_proposals);
  if (groups.empty()) {
    fail("no DH group in the IKE proposals");
    return;
  }
  log(LogLevel::info, "initiating connection '" + config_->name + "'");
  build_init_request(groups.front(), {});
}

void IkeSa::build_init_request(uint16_t group, const Bytes& cookie) {
  dh_group_ = group;
  ke_ = KeyExchange::generate(group);
  if (!ke_) {
    fail("cannot generate a key for DH group " + std::to_string(group));
    return;
  }
  if (nonce_i_.empty())
    nonce_i_ = host_.make_nonce(kNonceSize);
  std::vector<Payload> payloads;
  if (!cookie.empty())
    payloads.push_back(make_notify(NotifyType::cookie, cookie));
  SaPayload sa;
  uint8_t number = 1;
  for (const auto& spec : config_->ike_proposals) {
    sa.proposals.push_back(to_proposal(spec, number++, ProtocolId::ike, {}));
  }
  payloads.push_back(make_payload(PayloadType::sa, std::move(sa)));
  payloads.push_back(make_payload(PayloadType::ke, KePayload{group, ke_->public_value()}));
  payloads.push_back(make_payload(PayloadType::nonce, NoncePayload{nonce_i_}));
  payloads.push_back(
      make_notify(NotifyType::nat_detection_source_ip, nat_detection_hash(spi_i_, 0, local_)));
  payloads.push_back(make_notify(NotifyType::nat_detection_destination_ip,
                                 nat_detection_hash(spi_i_, 0, remote_)));
  if (config_->fragmentation) {
    payloads.push_back(make_notify(NotifyType::ikev2_fragmentation_supported));
  }
  payloads.push_back(make_notify(NotifyType::signature_hash_algorithms, kSignatureHashes));

  Header h = header_for(ExchangeKind::ike_sa_init, false, 0);
  h.exchange = ExchangeType::ike_sa_init;
  init_request_ = build_message(h, payloads);
  PendingRequest pending;
  pending.kind = ExchangeKind::ike_sa_init;
  pending.message_id = 0;
  next_request_id_ = 1;
  send_plain_request(std::move(pending), init_request_);
}

void IkeSa::process_init_response(const Message& response, ByteView datagram) {
  const auto& payloads = response.payloads;
  if (const auto* cookie = find_notify(payloads, NotifyType::cookie)) {
    if (cookie_.empty() && !cookie->data.empty() && cookie->data.size() <= 64) {
      cookie_ = cookie->data;
      manager_.counters().add("ike_cookies_answered");
      log(LogLevel::info, "responder asked for a COOKIE; retrying with it");
      build_init_request(dh_group_, cookie_);
    }
    return;
  }
  if (const auto* invalid_ke = find_notify(payloads, NotifyType::invalid_ke_payload)) {
    if (invalid_ke->data.size() == 2) {
      uint16_t wanted = static_cast<uint16_t>((invalid_ke->data[0] << 8) | invalid_ke->data[1]);
      auto groups = dh_groups(config_->ike_proposals);
      if (wanted != dh_group_ && std::find(groups.begin(), groups.end(), wanted) != groups.end()) {
        log(LogLevel::info, "responder wants DH group " + std::to_string(wanted));
        manager_.counters().add("ike_invalid_ke_received");
        build_init_request(wanted, cookie_);
        return;
      }
    }
    fail("INVALID_KE_PAYLOAD without a group we offer");
    return;
  }
  if (const auto* err = find_error_notify(payloads)) {
    fail(std::string("IKE_SA_INIT refused: ") + to_string(err->type));
    return;
  }
  const auto* sa = find_body<SaPayload>(payloads, PayloadType::sa);
  const auto* ke = find_body<KePayload>(payloads, PayloadType::ke);
  const auto* nonce = find_body<NoncePayload>(payloads, PayloadType::nonce);
  if (sa == nullptr || ke == nullptr || nonce == nullptr || sa->proposals.size() != 1 ||
      nonce->data.size() < 16 || nonce->data.size() > 256 || response.header.spi_r == 0) {
    fail("malformed IKE_SA_INIT response");
    return;
  }
  ProposalSpec answer = to_spec(sa->proposals.front());
  auto group = transform_of(answer, kTransformDh);
  if (!acceptable_answer(config_->ike_proposals, answer) || !group || group->id != ke->group ||
      ke->group != dh_group_) {
    fail("the responder chose a proposal we did not offer");
    return;
  }
  proposal_ = std::move(answer);
  spi_r_ = response.header.spi_r;
  nonce_r_ = nonce->data;
  auto shared = ke_->shared_secret(ke->data);
  if (!shared) {
    fail("bad KE payload: " + shared.error());
    return;
  }
  init_response_.assign(datagram.begin(), datagram.end());
  detect_nat(response, false);
  peer_fragmentation_ = find_notify(payloads, NotifyType::ikev2_fragmentation_supported) != nullptr;
  peer_hash_algorithms_ =
      parse_hashes(find_notify(payloads, NotifyType::signature_hash_algorithms));
  peer_certreqs_ = certreq_hashes(payloads);
  if (!derive_keys(shared->view()))
    return;
  pending_.reset();
  ke_.reset();
  // RFC 7296 2.23: with a NAT in the path, move to the NAT-T port now.
  if ((local_nat_ || remote_nat_ || config_->force_encap) &&
      remote_.port() != manager_.settings().natt_port) {
    remote_.port(manager_.settings().natt_port);
    local_.port(manager_.settings().natt_port);
  }
  state_ = IkeState::auth_sent;
  send_auth_request();
}

bool IkeSa::derive_keys(ByteView shared_secret) {
  auto prf_id = transform_of(proposal_, kTransformPrf);
  auto encr = transform_of(proposal_, kTransformEncr);
  auto integ = transform_of(proposal_, kTransformInteg);
  if (!prf_id || !encr) {
    fail("proposal lacks a PRF or a cipher");
    return false;
  }
  crypto_.prf = Prf::create(prf_id->id);
  auto lengths = ike_key_lengths(encr->id, encr->key_bits, integ ? integ->id : 0, prf_id->id);
  if (!crypto_.prf || !lengths) {
    fail("unsupported algorithms: " + describe(proposal_));
    return false;
  }
  auto derived =
      derive_ike_keys(*crypto_.prf, nonce_i_, nonce_r_, shared_secret, spi_i_, spi_r_, *lengths);
  if (!derived) {
    fail("key derivation failed: " + derived.error());
    return false;
  }
  IkeKeys& keys = *derived;
  const uint16_t integ_id = integ ? integ->id : 0;
  auto ci = SkCipher::create(encr->id, encr->key_bits, integ_id, keys.ei.view(), keys.ai.view());
  auto cr = SkCipher::create(encr->id, encr->key_bits, integ_id, keys.er.view(), keys.ar.view());
  if (!ci || !cr) {
    fail("cannot set up the IKE cipher " + describe(proposal_));
    return false;
  }
  if (role_ == Role::initiator) {
    crypto_.out = std::move(ci);
    crypto_.in = std::move(cr);
  } else {
    crypto_.out = std::move(cr);
    crypto_.in = std::move(ci);
  }
  crypto_.sk_d = std::move(keys.d);
  crypto_.sk_pi = std::move(keys.pi);
  crypto_.sk_pr = std::move(keys.pr);
  return true;
}

void IkeSa::on_init_request(const Message& request, ByteView datagram,
                            std::vector<std::shared_ptr<const PeerConfig>> candidates) {
  const auto& payloads = request.payloads;
  spi_i_ = request.header.spi_i;
  const auto* sa = find_body<SaPayload>(payloads, PayloadType::sa);
  const auto* ke = find_body<KePayload>(payloads, PayloadType::ke);
  const auto* nonce = find_body<NoncePayload>(payloads, PayloadType::nonce);
  auto refuse = [&](NotifyType type, Bytes data, const std::string& why) {
    Header h = header_for(ExchangeKind::ike_sa_init, true, 0);
    h.exchange = ExchangeType::ike_sa_init;
    h.spi_r = 0;  // RFC 7296 2.6: error responses to IKE_SA_INIT carry no SPIr
    Bytes reply = build_message(h, {make_notify(type, std::move(data))});
    host_.send(local_, remote_, reply);
    manager_.counters().add("ike_tx");
    manager_.counters().add(std::string("ike_init_refused_") + to_string(type));
    log(LogLevel::info, "IKE_SA_INIT refused (" + std::string(to_string(type)) + "): " + why);
    die();
  };
  if (sa == nullptr || ke == nullptr || nonce == nullptr || nonce->data.size() < 16 ||
      nonce->data.size() > 256) {
    refuse(NotifyType::invalid_syntax, {}, "missing SA, KE or nonce");
    return;
  }
  std::optional<SelectedProposal> selected;
  for (const auto& config : candidates) {
    selected = select_proposal(config->ike_proposals, sa->proposals, ProtocolId::ike);
    if (selected) {
      config_ = config;
      break;
    }
  }
  if (!selected) {
    refuse(NotifyType::no_proposal_chosen, {}, "no common IKE proposal");
    return;
  }
  // The chosen DH group must be the one of the KE payload, if the peer
  // offered that group in the selected proposal (RFC 7296 1.2, 3.4).
  auto group = transform_of(selected->chosen, kTransformDh);
  if (!group) {
    refuse(NotifyType::no_proposal_chosen, {}, "proposal without a DH group");
    return;
  }
  if (group->id != ke->group) {
    ProposalSpec theirs = to_spec(sa->proposals[0]);
    for (const auto& p : sa->proposals) {
      if (p.number == selected->number)
        theirs = to_spec(p);
    }
    auto mine = dh_groups(config_->ike_proposals);
    bool they_offer = false;
    for (const auto& t : transforms_of(theirs, kTransformDh))
      they_offer |= t.id == ke->group;
    bool we_allow = std::find(mine.begin(), mine.end(), ke->group) != mine.end();
    if (they_offer && we_allow) {
      for (auto& t : selected->chosen.transforms) {
        if (t.type == kTransformDh)
          t.id = ke->group;
      }
    } else {
      manager_.counters().add("ike_invalid_ke_sent");
      refuse(NotifyType::invalid_ke_payload,
             {static_cast<uint8_t>(group->id >> 8), static_cast<uint8_t>(group->id)},
             "peer sent KE for group " + std::to_string(ke->group));
      return;
    }
  }
  candidates_ = std::move(candidates);
  proposal_ = selected->chosen;
  dh_group_ = ke->group;
  ke_ = KeyExchange::generate(dh_group_);
  if (!ke_) {
    refuse(NotifyType::no_proposal_chosen, {}, "unsupported DH group");
    return;
  }
  auto shared = ke_->shared_secret(ke->data);
  if (!shared) {
    refuse(NotifyType::invalid_syntax, {}, "bad KE payload: " + shared.error());
    return;
  }
  nonce_i_ = nonce->data;
  nonce_r_ = host_.make_nonce(kNonceSize);
  init_request_.assign(datagram.begin(), datagram.end());
  detect_nat(request, true);
  peer_fragmentation_ = find_notify(payloads, NotifyType::ikev2_fragmentation_supported) != nullptr;
  peer_hash_algorithms_ =
      parse_hashes(find_notify(payloads, NotifyType::signature_hash_algorithms));
  dpd_interval_ = config_->dpd_interval;

  std::vector<Payload> out;
  SaPayload chosen;
  chosen.proposals.push_back(to_proposal(proposal_, selected->number, ProtocolId::ike, {}));
  out.push_back(make_payload(PayloadType::sa, std::move(chosen)));
  out.push_back(make_payload(PayloadType::ke, KePayload{dh_group_, ke_->public_value()}));
  out.push_back(make_payload(PayloadType::nonce, NoncePayload{nonce_r_}));
  out.push_back(
      make_notify(NotifyType::nat_detection_source_ip, nat_detection_hash(spi_i_, spi_r_, local_)));
  out.push_back(make_notify(NotifyType::nat_detection_destination_ip,
                            nat_detection_hash(spi_i_, spi_r_, remote_)));
  if (peer_fragmentation_ && config_->fragmentation) {
    out.push_back(make_notify(NotifyType::ikev2_fragmentation_supported));
  }
  if (!peer_hash_algorithms_.empty()) {
    out.push_back(make_notify(NotifyType::signature_hash_algorithms, kSignatureHashes));
  }
  // Ask for the peer's certificate if a candidate authenticates it by one.
  for (const auto& c : candidates_) {
    if (c->remote_auth == AuthKind::pubkey && c->credentials && c->credentials->trust) {
      Bytes hashes;
      for (const Bytes& h : c->credentials->trust->certreq_hashes()) {
        hashes.insert(hashes.end(), h.begin(), h.end());
      }
      out.push_back(
          make_payload(PayloadType::certreq, CertReqPayload{CertEncoding::x509_signature, hashes}));
      break;
    }
  }
  Header h = header_for(ExchangeKind::ike_sa_init, true, 0);
  h.exchange = ExchangeType::ike_sa_init;
  init_response_ = build_message(h, out);
  if (!derive_keys(shared->view()))
    return;
  ke_.reset();
  last_response_ = {init_response_};
  last_response_id_ = 0;
  expected_request_id_ = 1;
  transmit(last_response_);
  log(LogLevel::debug, "IKE_SA_INIT answered with " + describe(proposal_));
}

}  // namespace traverse::ike
