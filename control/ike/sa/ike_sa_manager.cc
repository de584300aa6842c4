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
    const uint32_t spi = host_.make_child_spi();
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

IkeSa* IkeSaManager::find(uint64_t id) {
  auto it = sa_index_.find(id);
  return it == sa_index_.end() ? nullptr : it->second;
}

IkeSa* IkeSaManager::find_by_child(uint64_t child_id) {
  auto it = child_ike_.find(child_id);
  return it == child_ike_.end() ? nullptr : find(it->second);
}

IkeSa* IkeSaManager::add(std::unique_ptr<IkeSa> sa) {
  IkeSa* raw = sa.get();
  sa_index_[raw->id()] = raw;
  by_id_.emplace(raw->id(), std::move(sa));
  return raw;
}

void IkeSaManager::child_added(const ChildSa& child, uint64_t ike_id) {
  child_ike_[child.id] = ike_id;
  if (child.spi_in != 0)
    child_in_.emplace(child.spi_in, child.id);
  if (child.spi_out != 0)
    child_out_.emplace(child.spi_out, child.id);
}

void IkeSaManager::child_moved(const ChildSa& child, uint64_t ike_id) {
  child_ike_[child.id] = ike_id;
  if (child.spi_in != 0)
    register_child(child.spi_in, ike_id);
}

namespace {
void erase_pair(std::unordered_multimap<uint32_t, uint64_t>& map, uint32_t spi, uint64_t child) {
  auto [first, last] = map.equal_range(spi);
  for (auto it = first; it != last; ++it) {
    if (it->second == child) {
      map.erase(it);
      return;
    }
  }
}
}  // namespace

void IkeSaManager::child_spi_cleared(const ChildSa& child, bool inbound) {
  const uint32_t spi = inbound ? child.spi_in : child.spi_out;
  if (spi != 0)
    erase_pair(inbound ? child_in_ : child_out_, spi, child.id);
}

void IkeSaManager::child_removed(const ChildSa& child) {
  child_spi_cleared(child, true);
  child_spi_cleared(child, false);
  child_ike_.erase(child.id);
}

std::pair<IkeSa*, uint64_t> IkeSaManager::child_by_spi(uint32_t spi, bool inbound,
                                                       uint64_t cookie) {
  if (spi == 0)
    return {nullptr, 0};
  auto [first, last] = (inbound ? child_in_ : child_out_).equal_range(spi);
  std::pair<uint64_t, uint64_t> best{UINT64_MAX, UINT64_MAX};  // IKE SA id, child id
  for (auto it = first; it != last; ++it) {
    if (cookie != 0 && it->second != cookie)
      continue;
    auto owner = child_ike_.find(it->second);
    if (owner != child_ike_.end())
      best = std::min(best, std::make_pair(owner->second, it->second));
  }
  IkeSa* sa = best.first == UINT64_MAX ? nullptr : find(best.first);
  return {sa, sa == nullptr ? 0 : best.second};
}

void IkeSaManager::remote_id_changed(const IkeSa& sa, const std::string& old_id) {
  if (old_id == sa.remote_id_text())
    return;
  if (!old_id.empty()) {
    auto it = by_remote_id_.find(old_id);
    if (it != by_remote_id_.end()) {
      it->second.erase(sa.id());
      if (it->second.empty())
        by_remote_id_.erase(it);
    }
  }
  if (!sa.remote_id_text().empty())
    by_remote_id_[sa.remote_id_text()].insert(sa.id());
}

void IkeSaManager::sa_died(const IkeSa& sa) {
  dead_ids_.push_back(sa.id());
}

void IkeSaManager::schedule(IkeSa& sa) {
  const TimePoint due = sa.next_deadline();
  if (due < sa.due_) {
    sa.due_ = due;
    deadlines_.emplace(due, sa.id());
  }
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
  schedule(*sa);
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
      schedule(*sa);
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
  IkeSa* raw = add(std::move(sa));
  by_spi_[raw->spi_r_] = raw;
  init_index_[key] = id;
  init_key_of_[id] = key;
  half_open_ids_[id] = source;
  ++half_open_per_source_[source];
  raw->on_init_request(request, datagram, std::move(candidates));
  schedule(*raw);
}

uint64_t IkeSaManager::initiate(std::shared_ptr<const PeerConfig> config, const Endpoint& local) {
  const uint64_t id = ++last_id_;
  auto sa = std::make_unique<IkeSa>(*this, id, Role::initiator, local, *config->remote);
  IkeSa* raw = add(std::move(sa));
  half_open_ids_[id] = source_key(*config->remote);
  raw->start_initiator(std::move(config));
  if (raw->spi_i_ != 0)
    by_spi_[raw->spi_i_] = raw;
  schedule(*raw);
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
  IkeSa* raw = add(std::move(sa));
  by_spi_[raw->local_spi()] = raw;
  // The caller sets it up after this returns: look at it at the next tick.
  raw->due_ = TimePoint::min();
  deadlines_.emplace(raw->due_, id);
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
  std::vector<uint64_t> ids;
  ids.swap(dead_ids_);
  for (uint64_t id : ids) {
    auto it = by_id_.find(id);
    if (it == by_id_.end() || !it->second->dead())
      continue;
    IkeSa& sa = *it->second;
    half_open_done(sa);
    if (auto s = by_spi_.find(sa.local_spi()); s != by_spi_.end() && s->second == &sa)
      by_spi_.erase(s);
    if (auto k = init_key_of_.find(id); k != init_key_of_.end()) {
      if (auto s = init_index_.find(k->second); s != init_index_.end() && s->second == id)
        init_index_.erase(s);
      init_key_of_.erase(k);
    }
    if (auto r = by_remote_id_.find(sa.remote_id_text()); r != by_remote_id_.end()) {
      r->second.erase(id);
      if (r->second.empty())
        by_remote_id_.erase(r);
    }
    sa_index_.erase(id);
    by_id_.erase(it);  // its destructor drops what children it still holds from the index
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
  // Only the SAs whose deadline has come, in id order as a full walk would
  // visit them; tick() does nothing to the others. Entries an SA superseded
  // (it was rescheduled earlier, or it is gone) are skipped.
  std::vector<uint64_t> due;
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    auto [when, id] = deadlines_.top();
    deadlines_.pop();
    IkeSa* sa = find(id);
    if (sa == nullptr || sa->due_ != when)
      continue;
    sa->due_ = TimePoint::max();
    due.push_back(id);
  }
  std::sort(due.begin(), due.end());
  for (uint64_t id : due) {
    if (IkeSa* sa = find(id)) {
      sa->tick(now);
      schedule(*sa);
    }
  }
  reap(now);
}

void IkeSaManager::on_child_soft_lifetime(const SaKey& key) {
  auto [sa, cid] = child_by_spi(key.spi, key.inbound, key.cookie);
  if (sa != nullptr)
    sa->request_rekey_child(cid);
}

void IkeSaManager::on_child_hard_lifetime(const SaKey& key) {
  auto [sa, cid] = child_by_spi(key.spi, key.inbound, key.cookie);
  if (sa != nullptr)
    sa->on_child_expired(cid);
}

void IkeSaManager::on_peer_address_changed(uint32_t inbound_spi, const Endpoint& remote) {
  auto [sa, cid] = child_by_spi(inbound_spi, true);
  if (sa != nullptr)
    sa->on_peer_moved(remote);
}

std::vector<uint64_t> IkeSaManager::ids_of_peer(const std::string& remote_id) const {
  std::vector<uint64_t> ids;
  if (remote_id.empty()) {
    // Not indexed (not authenticated yet); an operator asking for it is rare.
    for (const auto& [id, sa] : by_id_) {
      if (sa->remote_id_text().empty())
        ids.push_back(id);
    }
    return ids;
  }
  auto peers = by_remote_id_.find(remote_id);
  if (peers != by_remote_id_.end())
    ids.assign(peers->second.begin(), peers->second.end());
  return ids;
}

void IkeSaManager::on_initial_contact(const IkeSa& fresh) {
  for (uint64_t id : ids_of_peer(fresh.remote_id_text())) {
    IkeSa* sa = find(id);
    if (sa == nullptr || sa == &fresh || sa->dead() ||
        sa->remote_id_text() != fresh.remote_id_text() || sa->config() != fresh.config()) {
      continue;
    }
    host_.log(LogLevel::info, "ike#" + std::to_string(id) + " replaced: " + fresh.remote_id_text() +
                                  " sent INITIAL_CONTACT");
    counters_.add("ike_replaced_by_initial_contact");
    sa->destroy_children();
    sa->die();
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
  for (uint64_t id : ids_of_peer(remote_id)) {
    IkeSa* sa = find(id);
    if (sa != nullptr && sa->remote_id_text() == remote_id && !sa->dead()) {
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

std::string IkeSaManager::audit() const {
  auto id_text = [](uint64_t id) { return "ike#" + std::to_string(id); };
  if (sa_index_.size() != by_id_.size())
    return "the id index holds " + std::to_string(sa_index_.size()) + " SAs, not " +
           std::to_string(by_id_.size());
  std::set<Deadline> queued;
  for (auto heap = deadlines_; !heap.empty(); heap.pop())
    queued.insert(heap.top());
  const std::set<uint64_t> dead(dead_ids_.begin(), dead_ids_.end());
  std::size_t spis = 0, children = 0, spis_in = 0, spis_out = 0, peers = 0;
  for (const auto& [id, owned] : by_id_) {
    const IkeSa& sa = *owned;
    auto indexed = sa_index_.find(id);
    if (indexed == sa_index_.end() || indexed->second != &sa)
      return id_text(id) + " missing from the id index";
    if (sa.local_spi() != 0) {
      ++spis;
      auto it = by_spi_.find(sa.local_spi());
      if (it == by_spi_.end() || it->second != &sa)
        return id_text(id) + " not found by its SPI";
    }
    if (sa.dead() && dead.count(id) == 0)
      return id_text(id) + " is dead but not queued to be reaped";
    if (!sa.remote_id_text().empty()) {
      ++peers;
      auto it = by_remote_id_.find(sa.remote_id_text());
      if (it == by_remote_id_.end() || it->second.count(id) == 0)
        return id_text(id) + " not found by its peer identity";
    }
    if (!sa.dead()) {
      const TimePoint next = sa.next_deadline();
      if (sa.due_ > next)
        return id_text(id) + " is queued later than its next deadline";
      if (next != TimePoint::max() && queued.count({sa.due_, id}) == 0)
        return id_text(id) + " has a deadline but no entry in the timer heap";
    }
    for (const auto& [cid, child] : sa.children()) {
      ++children;
      const std::string what = id_text(id) + " child #" + std::to_string(cid);
      auto owner = child_ike_.find(cid);
      if (owner == child_ike_.end() || owner->second != id)
        return what + " not indexed under its IKE SA";
      for (bool inbound : {true, false}) {
        const uint32_t spi = inbound ? child.spi_in : child.spi_out;
        if (spi == 0)
          continue;
        ++(inbound ? spis_in : spis_out);
        const auto& map = inbound ? child_in_ : child_out_;
        auto [first, last] = map.equal_range(spi);
        if (std::none_of(first, last, [&](const auto& kv) { return kv.second == cid; }))
          return what + " not found by its " + (inbound ? "inbound" : "outbound") + " SPI";
      }
      if (child.spi_in != 0) {
        auto registered = child_owner_.find(child.spi_in);
        if (registered == child_owner_.end() || registered->second != id)
          return what + " inbound SPI registered to another IKE SA";
      }
    }
  }
  if (by_spi_.size() != spis)
    return "the SPI index holds " + std::to_string(by_spi_.size() - spis) + " stale entries";
  if (child_ike_.size() != children || child_in_.size() != spis_in || child_out_.size() != spis_out)
    return "the child index holds stale entries";
  std::size_t indexed_peers = 0;
  for (const auto& [peer, ids] : by_remote_id_)
    indexed_peers += ids.size();
  if (indexed_peers != peers)
    return "the peer identity index holds stale entries";
  for (const auto& [id, source] : half_open_ids_) {
    if (by_id_.count(id) == 0)
      return "half-open " + id_text(id) + " does not exist";
  }
  return {};
}

void IkeSaManager::shutdown() {
  for (auto& [id, sa] : by_id_) {
    if (sa->state() == IkeState::established)
      sa->send_delete_ike();
    sa->destroy_children();
    schedule(*sa);  // the delete's retransmissions, if the loop runs on
  }
}

}  // namespace traverse::ike
