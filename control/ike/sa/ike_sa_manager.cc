#include "control/ike/sa/ike_sa_manager.hh"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "control/ike/sa/nat_detection.hh"
#include "control/ike/sa/payload_util.hh"

namespace traverse::ike {
namespace {

std::string source_key(const Endpoint& e) {
  return e.address().to_string();
}
std::string endpoint_key(const Endpoint& e) {
  return e.address().to_string() + "#" + std::to_string(e.port());
}

constexpr auto kCookieSecretLifetime = std::chrono::seconds(120);

}  // namespace

IkeSaManager::IkeSaManager(IkeHost& host, IkeSettings settings)
    : host_(host), settings_(std::move(settings)) {
  Bytes secret = random_bytes(cookie_secret_.size());
  std::copy(secret.begin(), secret.end(), cookie_secret_.begin());
  previous_cookie_secret_ = cookie_secret_;
  cookie_secret_changed_ = host_.now();
}

IkeSaManager::~IkeSaManager() {
  by_id_.clear();
  OPENSSL_cleanse(cookie_secret_.data(), cookie_secret_.size());
  OPENSSL_cleanse(previous_cookie_secret_.data(), previous_cookie_secret_.size());
}

uint64_t IkeSaManager::allocate_ike_spi() {
  for (;;) {
    uint64_t spi = random_u64();
    if (spi != 0 && by_spi_.find(spi) == by_spi_.end())
      return spi;
  }
}

uint32_t IkeSaManager::allocate_child_spi() {
  for (;;) {
    auto spi = static_cast<uint32_t>(random_u64());
    // 1..255 are reserved by IANA (RFC 4303 2.1); the dataplane refuses them.
    if (spi < 256 || child_owner_.find(spi) != child_owner_.end())
      continue;
    // Our inbound SPIs are ours to choose: pick one whose backend table slot
    // is free, so installing it cannot collide with another tunnel's.
    const uint32_t mask = host_.ipsec().spi_slot_mask();
    if (mask != 0 && child_owner_.size() < mask && used_slots_.count(spi & mask) != 0)
      continue;
    child_owner_[spi] = 0;  // reserved until registered
    if (mask != 0)
      used_slots_.insert(spi & mask);
    return spi;
  }
}

std::size_t IkeSaManager::child_sa_count() const {
  std::size_t n = 0;
  for (const auto& [id, sa] : by_id_)
    n += sa->children().size();
  return n;
}

IkeSa* IkeSaManager::find(uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

IkeSa* IkeSaManager::find_by_child(uint64_t child_id) {
  for (auto& [id, sa] : by_id_) {
    if (sa->children().count(child_id) != 0)
      return sa.get();
  }
  return nullptr;
}

IkeSa* IkeSaManager::by_local_spi(uint64_t spi) {
  auto it = by_spi_.find(spi);
  return it == by_spi_.end() ? nullptr : it->second;
}

void IkeSaManager::on_datagram(const Endpoint& local, const Endpoint& remote, ByteView datagram) {
  counters_.add("ike_rx");
  auto header = parse_header(datagram);
  if (!header) {
    counters_.add("ike_drop_malformed");
    return;
  }
  const bool response = header->is_response();
  const bool from_original_initiator = header->is_initiator();
  if (header->exchange == ExchangeType::ike_sa_init && !response && header->spi_r == 0) {
    auto message = parse_message(datagram);
    if (!message) {
      counters_.add("ike_drop_malformed");
      host_.log(LogLevel::debug, "malformed IKE_SA_INIT from " + remote.address().to_string() +
                                     ": " + message.error().detail);
      return;
    }
    on_init_request(local, remote, *message, datagram);
    return;
  }
  const uint64_t ours = from_original_initiator ? header->spi_r : header->spi_i;
  IkeSa* sa = by_local_spi(ours);
  if (sa == nullptr) {
    counters_.add("ike_drop_unknown_spi");
    return;
  }
  auto message = parse_message(datagram);
  if (!message) {
    counters_.add("ike_drop_malformed");
    return;
  }
  sa->on_message(*message, datagram, local, remote);
}

bool IkeSaManager::cookie_required(const Endpoint& remote) const {
  (void)remote;
  return half_open_ids_.size() >= settings_.cookie_threshold;
}

Bytes IkeSaManager::make_cookie(ByteView nonce, const Endpoint& remote, uint64_t spi_i) const {
  // RFC 7296 2.6: <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>).
  Bytes input(nonce.begin(), nonce.end());
  const std::string ip = remote.address().to_string();
  input.insert(input.end(), ip.begin(), ip.end());
  Bytes spi = be64(spi_i);
  input.insert(input.end(), spi.begin(), spi.end());
  input.insert(input.end(), cookie_secret_.begin(), cookie_secret_.end());
  Bytes out(1 + 32);
  out[0] = cookie_secret_version_;
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), out.data() + 1, &len, EVP_sha256(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return out;
}

bool IkeSaManager::cookie_valid(ByteView cookie, ByteView nonce, const Endpoint& remote,
                                uint64_t spi_i) const {
  if (cookie.size() != 33)
    return false;
  Bytes expect = make_cookie(nonce, remote, spi_i);
  if (cookie[0] != cookie_secret_version_) {
    // Made with the previous secret, still accepted for one period.
    IkeSaManager& self = const_cast<IkeSaManager&>(*this);
    std::swap(self.cookie_secret_, self.previous_cookie_secret_);
    self.cookie_secret_version_ = static_cast<uint8_t>(self.cookie_secret_version_ - 1);
    expect = make_cookie(nonce, remote, spi_i);
    self.cookie_secret_version_ = static_cast<uint8_t>(self.cookie_secret_version_ + 1);
    std::swap(self.cookie_secret_, self.previous_cookie_secret_);
  }
  return CRYPTO_memcmp(expect.data(), cookie.data(), expect.size()) == 0;
}

void IkeSaManager::send_plain_notify(const Endpoint& local, const Endpoint& remote,
                                     const Header& request, uint16_t notify, ByteView data) {
  Header h{};
  h.spi_i = request.spi_i;
  h.spi_r = 0;
  h.major_version = 2;
  h.exchange = request.exchange;
  h.flags = header_flags::response;
  h.message_id = request.message_id;
  Bytes reply = build_message(
      h, {make_notify(static_cast<NotifyType>(notify), Bytes(data.begin(), data.end()))});
  host_.send(local, remote, reply);
  counters_.add("ike_tx");
}

void IkeSaManager::on_init_request(const Endpoint& local, const Endpoint& remote,
                                   const Message& request, ByteView datagram) {
  const auto key = std::make_pair(endpoint_key(remote), request.header.spi_i);
  if (auto it = init_index_.find(key); it != init_index_.end()) {
    IkeSa* sa = find(it->second);
    // A refused request (INVALID_KE_PAYLOAD) leaves a dead SA until the next
    // reap; the initiator's retry with the same SPI is a new request.
    if (sa != nullptr && !sa->dead()) {
      sa->on_message(request, datagram, local, remote);  // a retransmission
      return;
    }
    init_index_.erase(it);
  }
  if (by_id_.size() >= settings_.max_ike_sas) {
    counters_.add("ike_drop_sa_limit");
    return;
  }
  if (half_open_ids_.size() >= settings_.half_open_limit) {
    counters_.add("ike_drop_half_open_limit");
    return;
  }
  const std::string source = source_key(remote);
  if (half_open_per_source_[source] >= settings_.per_source_half_open) {
    counters_.add("ike_drop_per_source_limit");
    return;
  }
  const auto* nonce = find_body<NoncePayload>(request.payloads, PayloadType::nonce);
  if (nonce == nullptr) {
    counters_.add("ike_drop_malformed");
    return;
  }
  if (cookie_required(remote)) {
    const NotifyPayload* cookie = nullptr;
    if (!request.payloads.empty() && request.payloads.front().type == PayloadType::notify) {
      const auto* n = std::get_if<NotifyPayload>(&request.payloads.front().body);
      if (n != nullptr && n->type == NotifyType::cookie)
        cookie = n;
    }
    if (cookie == nullptr ||
        !cookie_valid(cookie->data, nonce->data, remote, request.header.spi_i)) {
      counters_.add(cookie == nullptr ? "ike_cookies_sent" : "ike_drop_bad_cookie");
      Bytes fresh = make_cookie(nonce->data, remote, request.header.spi_i);
      send_plain_notify(local, remote, request.header, static_cast<uint16_t>(NotifyType::cookie),
                        fresh);
      return;
    }
  }
  auto candidates = host_.configs_for(local, remote);
  if (candidates.empty()) {
    counters_.add("ike_drop_no_connection");
    send_plain_notify(local, remote, request.header,
                      static_cast<uint16_t>(NotifyType::no_proposal_chosen), {});
    host_.log(LogLevel::info, "no connection for " + remote.address().to_string());
    return;
  }
  const uint64_t id = ++last_id_;
  auto sa = std::make_unique<IkeSa>(*this, id, Role::responder, local, remote);
  sa->spi_r_ = allocate_ike_spi();
  IkeSa* raw = sa.get();
  by_spi_[sa->spi_r_] = raw;
  by_id_.emplace(id, std::move(sa));
  init_index_[key] = id;
  half_open_ids_[id] = source;
  ++half_open_per_source_[source];
  raw->on_init_request(request, datagram, std::move(candidates));
}

uint64_t IkeSaManager::initiate(std::shared_ptr<const PeerConfig> config, const Endpoint& local) {
  const uint64_t id = ++last_id_;
  auto sa = std::make_unique<IkeSa>(*this, id, Role::initiator, local, *config->remote);
  IkeSa* raw = sa.get();
  by_id_.emplace(id, std::move(sa));
  half_open_ids_[id] = source_key(*config->remote);
  raw->start_initiator(std::move(config));
  if (raw->spi_i_ != 0)
    by_spi_[raw->spi_i_] = raw;
  return id;
}

IkeSa& IkeSaManager::create_successor(Role role, const Endpoint& local, const Endpoint& remote,
                                      uint64_t spi_i, uint64_t spi_r) {
  const uint64_t id = ++last_id_;
  auto sa = std::make_unique<IkeSa>(*this, id, role, local, remote);
  sa->spi_i_ = spi_i;
  sa->spi_r_ = spi_r;
  sa->next_request_id_ = 0;
  sa->expected_request_id_ = 0;
  IkeSa* raw = sa.get();
  by_spi_[raw->local_spi()] = raw;
  by_id_.emplace(id, std::move(sa));
  return *raw;
}

void IkeSaManager::half_open_done(const IkeSa& sa) {
  auto it = half_open_ids_.find(sa.id());
  if (it == half_open_ids_.end())
    return;
  auto src = half_open_per_source_.find(it->second);
  if (src != half_open_per_source_.end() && --src->second == 0)
    half_open_per_source_.erase(src);
  half_open_ids_.erase(it);
}

void IkeSaManager::reap(TimePoint now) {
  (void)now;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    IkeSa& sa = *it->second;
    if (!sa.dead()) {
      ++it;
      continue;
    }
    half_open_done(sa);
    for (auto s = by_spi_.begin(); s != by_spi_.end();) {
      s = s->second == &sa ? by_spi_.erase(s) : std::next(s);
    }
    for (auto s = init_index_.begin(); s != init_index_.end();) {
      s = s->second == sa.id() ? init_index_.erase(s) : std::next(s);
    }
    it = by_id_.erase(it);
  }
}

void IkeSaManager::tick(TimePoint now) {
  if (now - cookie_secret_changed_ > kCookieSecretLifetime) {
    previous_cookie_secret_ = cookie_secret_;
    Bytes secret = random_bytes(cookie_secret_.size());
    std::copy(secret.begin(), secret.end(), cookie_secret_.begin());
    OPENSSL_cleanse(secret.data(), secret.size());
    ++cookie_secret_version_;
    cookie_secret_changed_ = now;
  }
  std::vector<uint64_t> ids;
  ids.reserve(by_id_.size());
  for (const auto& [id, sa] : by_id_)
    ids.push_back(id);
  for (uint64_t id : ids) {
    if (IkeSa* sa = find(id))
      sa->tick(now);
  }
  reap(now);
}

namespace {
template <typename Map>
std::pair<IkeSa*, uint64_t> child_by_spi(Map& by_id, uint32_t spi, bool inbound) {
  for (auto& [id, sa] : by_id) {
    for (const auto& [cid, child] : sa->children()) {
      if ((inbound ? child.spi_in : child.spi_out) == spi)
        return {sa.get(), cid};
    }
  }
  return {nullptr, 0};
}
}  // namespace

void IkeSaManager::on_child_soft_lifetime(uint32_t spi, bool inbound) {
  auto [sa, cid] = child_by_spi(by_id_, spi, inbound);
  if (sa != nullptr)
    sa->request_rekey_child(cid);
}

void IkeSaManager::on_child_hard_lifetime(uint32_t spi, bool inbound) {
  auto [sa, cid] = child_by_spi(by_id_, spi, inbound);
  if (sa != nullptr)
    sa->on_child_expired(cid);
}

void IkeSaManager::on_peer_address_changed(uint32_t inbound_spi, const Endpoint& remote) {
  auto [sa, cid] = child_by_spi(by_id_, inbound_spi, true);
  if (sa != nullptr)
    sa->on_peer_moved(remote);
}

void IkeSaManager::on_initial_contact(const IkeSa& fresh) {
  for (auto& [id, sa] : by_id_) {
    if (sa.get() == &fresh || sa->dead() || sa->remote_id_text() != fresh.remote_id_text() ||
        sa->config() != fresh.config()) {
      continue;
    }
    host_.log(LogLevel::info, "ike#" + std::to_string(id) + " replaced: " + fresh.remote_id_text() +
                                  " sent INITIAL_CONTACT");
    counters_.add("ike_replaced_by_initial_contact");
    sa->destroy_children();
    sa->state_ = IkeState::dead;
  }
}

void IkeSaManager::on_dataplane_restarted() {
  for (auto& [id, sa] : by_id_)
    sa->reinstall_children();
}

bool IkeSaManager::terminate_ike(uint64_t id) {
  IkeSa* sa = find(id);
  if (sa == nullptr)
    return false;
  sa->request_delete();
  return true;
}

bool IkeSaManager::terminate_child(uint64_t child_id) {
  IkeSa* sa = find_by_child(child_id);
  if (sa == nullptr)
    return false;
  sa->request_delete_child(child_id);
  return true;
}

std::size_t IkeSaManager::terminate_peer(const std::string& remote_id) {
  std::size_t n = 0;
  for (auto& [id, sa] : by_id_) {
    if (sa->remote_id_text() == remote_id && !sa->dead()) {
      sa->request_delete();
      ++n;
    }
  }
  return n;
}

bool IkeSaManager::rekey_ike(uint64_t id) {
  IkeSa* sa = find(id);
  if (sa == nullptr || sa->state() != IkeState::established)
    return false;
  sa->request_rekey_ike();
  return true;
}

bool IkeSaManager::rekey_child(uint64_t child_id) {
  IkeSa* sa = find_by_child(child_id);
  if (sa == nullptr)
    return false;
  sa->request_rekey_child(child_id);
  return true;
}

void IkeSaManager::shutdown() {
  for (auto& [id, sa] : by_id_) {
    if (sa->state() == IkeState::established)
      sa->send_delete_ike();
    sa->destroy_children();
  }
}

}  // namespace traverse::ike
