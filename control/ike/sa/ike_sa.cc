#include "control/ike/sa/ike_sa.hh"

#include <algorithm>

#include "control/ike/sa/ike_sa_manager.hh"
#include "control/ike/sa/payload_util.hh"

namespace traverse::ike {

const char* to_string(ExchangeKind k) {
  switch (k) {
    case ExchangeKind::ike_sa_init:
      return "IKE_SA_INIT";
    case ExchangeKind::ike_auth:
      return "IKE_AUTH";
    case ExchangeKind::create_child:
      return "CREATE_CHILD_SA";
    case ExchangeKind::rekey_child:
      return "CREATE_CHILD_SA (child rekey)";
    case ExchangeKind::rekey_ike:
      return "CREATE_CHILD_SA (IKE rekey)";
    case ExchangeKind::delete_child:
      return "INFORMATIONAL (delete child)";
    case ExchangeKind::delete_ike:
      return "INFORMATIONAL (delete IKE)";
    case ExchangeKind::liveness:
      return "INFORMATIONAL (liveness)";
  }
  return "unknown";
}

IkeSa::IkeSa(IkeSaManager& manager, uint64_t id, Role role, Endpoint local, Endpoint remote)
    : manager_(manager),
      host_(manager.host()),
      id_(id),
      role_(role),
      state_(role == Role::initiator ? IkeState::init_sent : IkeState::init_done),
      local_(std::move(local)),
      remote_(std::move(remote)),
      created_at_(manager.host().now()) {
  last_heard_ = created_at_;
}

IkeSa::~IkeSa() {
  // An inbound SPI offered in a request that never completed is released.
  if (pending_ && pending_->new_spi_in != 0)
    manager_.unregister_child(pending_->new_spi_in);
  destroy_children();
}

bool IkeSa::encap() const {
  return local_nat_ || remote_nat_ || (config_ != nullptr && config_->force_encap) ||
         local_.port() != manager_.settings().ike_port;
}

void IkeSa::log(LogLevel level, const std::string& text) const {
  std::string line = "ike#" + std::to_string(id_) + " " + remote_.address().to_string() + ":" +
                     std::to_string(remote_.port());
  if (!remote_id_text_.empty())
    line += " [" + remote_id_text_ + "]";
  line += ": " + text;
  host_.log(level, line);
}

void IkeSa::fail(const std::string& why) {
  log(LogLevel::warning, "IKE SA failed: " + why);
  manager_.counters().add("ike_failed");
  settle_collision();
  destroy_children();
  die();
}

void IkeSa::die() {
  if (state_ == IkeState::dead)
    return;
  state_ = IkeState::dead;
  manager_.sa_died(*this);
  drop_redundant_successor();
}

void IkeSa::set_remote_id(std::string text) {
  std::string old = std::move(remote_id_text_);
  remote_id_text_ = std::move(text);
  manager_.remote_id_changed(*this, old);
}

void IkeSa::add_child(ChildSa child) {
  const uint64_t cid = child.id;
  auto [it, fresh] = children_.emplace(cid, std::move(child));
  if (fresh)
    manager_.child_added(it->second, id_);
}

std::map<uint64_t, ChildSa>::iterator IkeSa::erase_child(std::map<uint64_t, ChildSa>::iterator it) {
  manager_.child_removed(it->second);
  return children_.erase(it);
}

Header IkeSa::header_for(ExchangeKind kind, bool response, uint32_t message_id) const {
  Header h{};
  h.spi_i = spi_i_;
  h.spi_r = kind == ExchangeKind::ike_sa_init && !response && role_ == Role::initiator ? 0 : spi_r_;
  h.major_version = 2;
  h.minor_version = 0;
  h.flags = 0;
  if (role_ == Role::initiator)
    h.flags |= header_flags::initiator;
  if (response)
    h.flags |= header_flags::response;
  h.message_id = message_id;
  return h;
}

std::vector<Bytes> IkeSa::protect(ExchangeType exchange, bool response, uint32_t message_id,
                                  const std::vector<Payload>& inner) {
  Header h = header_for(ExchangeKind::liveness, response, message_id);
  h.exchange = exchange;
  PayloadType first = PayloadType::none;
  Bytes plain = serialize_payload_chain(inner, &first);
  const SkCipher& cipher = *crypto_.out;
  std::vector<Bytes> out;

  // RFC 7383: fragment only if both sides support it and the message would
  // not fit the configured datagram size.
  const bool v6 = remote_.address().is_v6();
  const std::size_t overhead_ip =
      (v6 ? 40 : 20) + 8 + (local_.port() == manager_.settings().natt_port ? 4 : 0);
  const std::size_t budget = manager_.settings().fragment_size > overhead_ip
                                 ? manager_.settings().fragment_size - overhead_ip
                                 : 0;
  const std::size_t whole = 28 + 4 + cipher.body_length(plain.size());
  if (peer_fragmentation_ && config_ != nullptr && config_->fragmentation && whole > budget &&
      budget > 28 + 8 + cipher.body_length(0) + 16) {
    std::size_t content = budget - 28 - 8;
    while (content > 0 && 28 + 8 + cipher.body_length(content) > budget)
      --content;
    std::vector<ByteView> pieces = split_into_fragments(plain, content);
    const auto total = static_cast<uint16_t>(pieces.size());
    for (uint16_t n = 1; n <= total; ++n) {
      const ByteView piece = pieces[n - 1];
      h.next_payload = PayloadType::skf;
      Bytes packet = build_skf_prefix(h, n == 1 ? first : PayloadType::none, n, total,
                                      cipher.body_length(piece.size()));
      const std::size_t prefix_len = packet.size();
      packet.resize(prefix_len + cipher.body_length(piece.size()));
      cipher.seal(ByteView(packet.data(), prefix_len), piece,
                  std::span<uint8_t>(packet.data() + prefix_len, packet.size() - prefix_len));
      out.push_back(std::move(packet));
    }
    manager_.counters().add("ike_fragments_sent", total);
    return out;
  }
  h.next_payload = PayloadType::sk;
  Bytes packet = build_sk_prefix(h, first, cipher.body_length(plain.size()));
  const std::size_t prefix_len = packet.size();
  packet.resize(prefix_len + cipher.body_length(plain.size()));
  cipher.seal(ByteView(packet.data(), prefix_len), plain,
              std::span<uint8_t>(packet.data() + prefix_len, packet.size() - prefix_len));
  out.push_back(std::move(packet));
  return out;
}

std::optional<std::vector<Payload>> IkeSa::unprotect(const Message& message, ByteView datagram) {
  if (!crypto_.in) {
    manager_.counters().add("ike_drop_no_keys");
    return std::nullopt;
  }
  if (message.payloads.empty()) {
    manager_.counters().add("ike_drop_not_encrypted");
    return std::nullopt;
  }
  const Payload& last = message.payloads.back();
  if (const auto* sk = std::get_if<EncryptedPayload>(&last.body)) {
    if (sk->body.size() > datagram.size())
      return std::nullopt;
    const std::size_t prefix_len = datagram.size() - sk->body.size();
    auto plain = crypto_.in->open(datagram.first(prefix_len), sk->body);
    if (!plain) {
      manager_.counters().add("ike_drop_integrity");
      log(LogLevel::debug, "dropped a message that failed integrity: " + plain.error());
      return std::nullopt;
    }
    auto payloads = parse_payload_chain(sk->first_inner, *plain);
    if (!payloads) {
      manager_.counters().add("ike_drop_bad_inner");
      log(LogLevel::info, "dropped a message with bad inner payloads: " + payloads.error().detail);
      return std::nullopt;
    }
    return std::move(*payloads);
  }
  if (const auto* skf = std::get_if<EncryptedFragment>(&last.body)) {
    if (skf->body.size() > datagram.size())
      return std::nullopt;
    const std::size_t prefix_len = datagram.size() - skf->body.size();
    auto plain = crypto_.in->open(datagram.first(prefix_len), skf->body);
    if (!plain) {
      manager_.counters().add("ike_drop_fragment_integrity");
      return std::nullopt;
    }
    manager_.counters().add("ike_fragments_received");
    auto result = reassembler_.add(message.header.message_id, skf->number, skf->total,
                                   skf->first_inner, *plain, host_.now());
    if (result.status != FragmentResult::Status::complete)
      return std::nullopt;
    auto payloads = parse_payload_chain(result.first_inner, result.content);
    if (!payloads) {
      manager_.counters().add("ike_drop_bad_inner");
      return std::nullopt;
    }
    return std::move(*payloads);
  }
  manager_.counters().add("ike_drop_not_encrypted");
  return std::nullopt;
}

void IkeSa::transmit(const std::vector<Bytes>& packets) {
  for (const Bytes& p : packets) {
    host_.send(local_, remote_, p);
    manager_.counters().add("ike_tx");
  }
}

void IkeSa::send_request(ExchangeKind kind, ExchangeType exchange, std::vector<Payload> inner,
                         PendingRequest pending) {
  pending.kind = kind;
  pending.message_id = next_request_id_++;
  pending.packets = protect(exchange, false, pending.message_id, inner);
  pending.tries = 1;
  pending.next_send = host_.now() + manager_.settings().retransmit_timeout;
  transmit(pending.packets);
  log(LogLevel::debug,
      std::string("sent ") + to_string(kind) + " request #" + std::to_string(pending.message_id));
  pending_ = std::move(pending);
}

void IkeSa::send_plain_request(PendingRequest pending, Bytes datagram) {
  pending.packets.clear();
  pending.packets.push_back(std::move(datagram));
  pending.tries = 1;
  pending.next_send = host_.now() + manager_.settings().retransmit_timeout;
  transmit(pending.packets);
  pending_ = std::move(pending);
}

void IkeSa::send_response(ExchangeType exchange, uint32_t message_id, std::vector<Payload> inner) {
  last_response_ = protect(exchange, true, message_id, inner);
  last_response_id_ = message_id;
  transmit(last_response_);
}

void IkeSa::on_message(const Message& message, ByteView datagram, const Endpoint& local,
                       const Endpoint& remote) {
  const Header& h = message.header;
  const bool response = (h.flags & header_flags::response) != 0;
  if (state_ == IkeState::dead) {
    manager_.counters().add("ike_drop_dead_sa");
    return;
  }

  if (h.exchange == ExchangeType::ike_sa_init) {
    if (response && role_ == Role::initiator && pending_ &&
        pending_->kind == ExchangeKind::ike_sa_init) {
      process_init_response(message, datagram);
    } else if (!response && role_ == Role::responder && !last_response_.empty() &&
               last_response_id_ == 0 && state_ == IkeState::init_done) {
      manager_.counters().add("ike_retransmitted_responses");
      transmit(last_response_);  // a retransmitted IKE_SA_INIT request
    } else {
      manager_.counters().add("ike_drop_unexpected_init");
    }
    return;
  }

  if (response) {
    if (!pending_ || h.message_id != pending_->message_id) {
      manager_.counters().add("ike_drop_unexpected_response");
      return;
    }
    auto inner = unprotect(message, datagram);
    if (!inner)
      return;
    last_heard_ = host_.now();
    on_response(message, std::move(*inner));
    return;
  }

  // A request: the next one, or a retransmission of the last one answered.
  if (h.message_id + 1 == expected_request_id_ && !last_response_.empty() &&
      last_response_id_ == h.message_id) {
    // Only answer once the retransmission proves authentic: cheap enough, and
    // a forged copy then cannot make us send (RFC 7296 2.1 amplification).
    if (!retransmission_authentic(message, datagram))
      return;
    manager_.counters().add("ike_retransmitted_responses");
    transmit(last_response_);
    return;
  }
  if (h.message_id != expected_request_id_) {
    manager_.counters().add("ike_drop_message_id");
    return;
  }
  auto inner = unprotect(message, datagram);
  if (!inner)
    return;
  last_heard_ = host_.now();
  // The initiator moves to the NAT-T port for IKE_AUTH (RFC 7296 2.23): the
  // responder answers, and sends ESP, where that request came from.
  if (state_ == IkeState::init_done && (remote != remote_ || local != local_)) {
    remote_ = remote;
    local_ = local;
  }
  // An authenticated request from a new address or port: the peer's NAT
  // mapping changed (or it moved); follow it (RFC 7296 2.23).
  if (remote != remote_ && state_ == IkeState::established) {
    log(LogLevel::info,
        "peer moved to " + remote.address().to_string() + ":" + std::to_string(remote.port()));
    local_ = local;
    on_peer_moved(remote);
  }
  on_request(message, std::move(*inner));
}

bool IkeSa::retransmission_authentic(const Message& message, ByteView datagram) {
  const Payload* last = message.payloads.empty() ? nullptr : &message.payloads.back();
  const Bytes* body = nullptr;
  if (const auto* sk = last ? std::get_if<EncryptedPayload>(&last->body) : nullptr) {
    body = &sk->body;
  } else if (const auto* skf = last ? std::get_if<EncryptedFragment>(&last->body) : nullptr) {
    if (skf->number != 1) {
      // RFC 7383 2.6.1: answer on the first fragment only.
      manager_.counters().add("ike_drop_retransmitted_fragment");
      return false;
    }
    body = &skf->body;
  }
  if (body == nullptr || !crypto_.in) {
    manager_.counters().add("ike_drop_not_encrypted");
    return false;
  }
  if (body->size() > datagram.size() ||
      !crypto_.in->open(datagram.first(datagram.size() - body->size()), *body)) {
    manager_.counters().add("ike_drop_integrity");
    return false;
  }
  return true;
}

void IkeSa::on_request(const Message& message, std::vector<Payload> inner) {
  const uint32_t mid = message.header.message_id;
  expected_request_id_ = mid + 1;
  switch (message.header.exchange) {
    case ExchangeType::ike_auth:
      if (role_ == Role::responder && state_ == IkeState::init_done) {
        process_auth_request(mid, inner);
      } else {
        manager_.counters().add("ike_drop_unexpected_request");
      }
      return;
    case ExchangeType::create_child_sa: {
      if (state_ != IkeState::established) {
        // RFC 7296 2.25.2: this SA is rekeyed or being deleted; the peer
        // learns of that shortly (a delete), or retries on the new SA.
        log(LogLevel::info, std::string("CREATE_CHILD_SA refused (TEMPORARY_FAILURE): IKE SA is ") +
                                to_string(state_));
        send_response(ExchangeType::create_child_sa, mid,
                      {make_notify(NotifyType::temporary_failure)});
        return;
      }
      // An SA payload proposing protocol IKE is an IKE SA rekey.
      const auto* sa = find_body<SaPayload>(inner, PayloadType::sa);
      if (sa != nullptr && !sa->proposals.empty() &&
          sa->proposals.front().protocol == ProtocolId::ike) {
        process_rekey_ike_request(mid, inner);
      } else {
        process_create_child_request(mid, inner);
      }
      return;
    }
    case ExchangeType::informational:
      process_informational_request(mid, inner);
      return;
    default:
      manager_.counters().add("ike_drop_unexpected_request");
      return;
  }
}

void IkeSa::on_response(const Message& message, std::vector<Payload> inner) {
  PendingRequest pending = std::move(*pending_);
  pending_.reset();
  switch (pending.kind) {
    case ExchangeKind::ike_auth:
      process_auth_response(pending, inner);
      break;
    case ExchangeKind::create_child:
    case ExchangeKind::rekey_child:
      process_create_child_response(pending, inner);
      break;
    case ExchangeKind::rekey_ike:
      process_rekey_ike_response(pending, inner);
      break;
    case ExchangeKind::delete_child:
    case ExchangeKind::delete_ike:
    case ExchangeKind::liveness:
      process_informational_response(pending, inner);
      break;
    case ExchangeKind::ike_sa_init:
      break;
  }
  (void)message;
  if (state_ != IkeState::dead)
    start_next_exchange();
}

void IkeSa::start_next_exchange() {
  while (!pending_ && !queue_.empty() &&
         (state_ == IkeState::established || state_ == IkeState::rekeyed)) {
    QueuedExchange next = queue_.front();
    queue_.pop_front();
    switch (next.kind) {
      case ExchangeKind::create_child:
      case ExchangeKind::rekey_child:
        if (state_ == IkeState::established)
          send_create_child(next.kind, next.child_id);
        break;
      case ExchangeKind::rekey_ike:
        if (state_ == IkeState::established)
          send_rekey_ike();
        break;
      case ExchangeKind::delete_child:
        send_delete_child(next.child_id);
        break;
      case ExchangeKind::delete_ike:
        send_delete_ike();
        break;
      case ExchangeKind::liveness:
        send_liveness();
        break;
      default:
        break;
    }
  }
}

void IkeSa::tick(TimePoint now) {
  if (state_ == IkeState::dead)
    return;
  const IkeSettings& s = manager_.settings();
  if (half_open() && now - created_at_ > s.half_open_timeout) {
    fail("half-open for too long");
    return;
  }
  if (pending_ && now >= pending_->next_send) {
    if (pending_->tries > s.retransmit_tries) {
      fail(std::string("no response to ") + to_string(pending_->kind) + " after " +
           std::to_string(pending_->tries) + " transmissions");
      return;
    }
    manager_.counters().add("ike_retransmits");
    transmit(pending_->packets);
    pending_->next_send = now + s.retransmit_timeout * (1u << std::min(pending_->tries, 6u));
    ++pending_->tries;
  }
  reassembler_.expire(now);
  if (state_ == IkeState::rekeyed) {
    if (now >= delete_at_)
      fail("superseded IKE SA not deleted by the peer");
    return;
  }
  if (state_ != IkeState::established)
    return;

  if (rekey_at_ != TimePoint{} && now >= rekey_at_) {
    rekey_at_ = TimePoint{};
    request_rekey_ike();
  }
  for (auto& [cid, child] : children_) {
    if (child.state == ChildState::installed && child.rekey_at != TimePoint{} &&
        now >= child.rekey_at) {
      child.rekey_at = TimePoint{};
      request_rekey_child(cid);
    }
    if (child.state == ChildState::rekeyed && now >= child.delete_at) {
      // The peer never deleted the old child: remove our inbound half.
      uninstall_child(child, true, true);
      child.state = ChildState::deleting;
    }
  }
  for (auto it = children_.begin(); it != children_.end();) {
    const bool gone = it->second.state == ChildState::deleting && it->second.spi_in == 0;
    it = gone ? erase_child(it) : std::next(it);
  }
  if (dpd_interval_.count() > 0 && !pending_ && queue_.empty() &&
      now - last_heard_ > dpd_interval_) {
    queue_.push_back({ExchangeKind::liveness, 0});
    start_next_exchange();
  }
}

TimePoint IkeSa::next_deadline() const {
  // Mirrors tick(): before the earliest of these, tick() does nothing.
  if (state_ == IkeState::dead)
    return TimePoint::max();
  TimePoint next = TimePoint::max();
  const IkeSettings& s = manager_.settings();
  if (half_open())
    next = std::min(next, created_at_ + s.half_open_timeout);
  if (pending_)
    next = std::min(next, pending_->next_send);
  // Fragment sets expire after the reassembler's timeout, which it does not
  // reveal; one being collected is looked at every tick (add() expires
  // stale sets as well, so this only bounds the memory held).
  if (reassembler_.collecting())
    return TimePoint::min();
  if (state_ == IkeState::rekeyed)
    return std::min(next, delete_at_);
  if (state_ != IkeState::established)
    return next;
  if (rekey_at_ != TimePoint{})
    next = std::min(next, rekey_at_);
  for (const auto& [cid, child] : children_) {
    if (child.state == ChildState::installed && child.rekey_at != TimePoint{})
      next = std::min(next, child.rekey_at);
    if (child.state == ChildState::rekeyed)
      next = std::min(next, child.delete_at);
    if (child.state == ChildState::deleting && child.spi_in == 0)
      return TimePoint::min();
  }
  if (dpd_interval_.count() > 0 && !pending_ && queue_.empty())
    next = std::min(next, last_heard_ + dpd_interval_);
  return next;
}

void IkeSa::request_create_child() {
  queue_.push_back({ExchangeKind::create_child, 0});
  start_next_exchange();
  manager_.schedule(*this);
}
void IkeSa::request_rekey_child(uint64_t child_id) {
  queue_.push_back({ExchangeKind::rekey_child, child_id});
  start_next_exchange();
  manager_.schedule(*this);
}
void IkeSa::request_rekey_ike() {
  queue_.push_back({ExchangeKind::rekey_ike, 0});
  start_next_exchange();
  manager_.schedule(*this);
}
void IkeSa::request_delete_child(uint64_t child_id) {
  queue_.push_back({ExchangeKind::delete_child, child_id});
  start_next_exchange();
  manager_.schedule(*this);
}
void IkeSa::request_delete() {
  if (state_ != IkeState::established && state_ != IkeState::rekeyed) {
    fail("terminated before it was established");
    return;
  }
  queue_.clear();
  queue_.push_back({ExchangeKind::delete_ike, 0});
  // The delete waits for the exchange in flight (its retransmissions bound
  // the wait): abandoning that request would leave its message ID unanswered,
  // and the peer (window size 1, RFC 7296 2.3) would drop every later
  // request, the delete included.
  start_next_exchange();
  manager_.schedule(*this);
}

}  // namespace traverse::ike
