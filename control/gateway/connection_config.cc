// Reading one [[connection]] of gateway.toml (declared in config_checks.hh).
#include <fstream>
#include <sstream>

#include "control/gateway/config_checks.hh"

namespace traverse::gateway {
namespace {

const std::vector<std::string> kDefaultIkeProposals = {
    "aes256gcm16-prfsha384-ecp384", "aes128gcm16-prfsha256-x25519", "aes256-sha256-modp2048"};
const std::vector<std::string> kDefaultEspProposals = {"aes128gcm16", "aes256gcm16",
                                                       "aes128-sha256"};
constexpr std::size_t kMaxPskFileBytes = 4096;

bool read_auth(TomlReader& r, const std::string& key, AuthMethod* out) {
  std::string method;
  if (!r.choice(key, {"psk", "pubkey"}, &method)) {
    return false;
  }
  *out = method == "pubkey" ? AuthMethod::pubkey : AuthMethod::psk;
  return true;
}

template <typename Parse>
void read_proposals(TomlReader& r, const std::string& key, const std::vector<std::string>& fallback,
                    Parse parse, std::vector<AlgorithmProposal>* out) {
  bool present = false;
  std::vector<std::string> texts = r.strings(key, &present);
  if (present && texts.empty()) {
    r.fail(key, "needs at least one proposal");
    return;
  }
  for (const std::string& text : present ? texts : fallback) {
    auto proposal = parse(text);
    if (!proposal) {
      r.fail(key, proposal.error());
      return;
    }
    out->push_back(std::move(*proposal));
  }
}

// "pool": a name or a list of names. A dual-stack client asks for an IPv4
// and an IPv6 address at once, so one pool per family may be listed.
void read_pools(TomlReader& r, const GatewayConfig& config, ConnectionSettings* c) {
  std::vector<std::string> names = r.strings("pool");
  std::erase(names, std::string());  // pool = "": no Office Mode
  const PoolSettings* by_family[2] = {nullptr, nullptr};
  for (const std::string& name : names) {
    const PoolSettings* pool = config.find_pool(name);
    if (pool == nullptr) {
      std::string defined;
      for (const PoolSettings& p : config.pools) {
        defined += (defined.empty() ? "" : ", ") + p.name;
      }
      r.fail("pool", "no [[pool]] named '" + name +
                         "' (defined: " + (defined.empty() ? "none" : defined) + ")");
      return;
    }
    const PoolSettings*& same = by_family[pool->addresses.address.version == 4 ? 0 : 1];
    if (same != nullptr) {
      r.fail("pool", "'" + same->name + "' and '" + name + "' are both IPv" +
                         std::to_string(pool->addresses.address.version) +
                         " pools: list at most one per address family");
      return;
    }
    same = pool;
    c->pools.push_back(name);
  }
}

void read_selectors(TomlReader& r, const std::string& key, const std::string& fallback,
                    std::vector<TrafficSelectorSetting>* out) {
  bool present = false;
  std::vector<std::string> texts = r.strings(key, &present);
  if (!present) {
    texts = {fallback};
  } else if (texts.empty()) {
    r.fail(key, "needs at least one selector (\"dynamic\" or a CIDR)");
    return;
  }
  for (const std::string& text : texts) {
    TrafficSelectorSetting selector;
    if (text == "dynamic") {
      selector.dynamic = true;
    } else {
      auto cidr = Cidr::parse(text);
      if (!cidr) {
        r.fail(key, cidr.error() + " (expected \"dynamic\" or a CIDR)");
        return;
      }
      selector.cidr = *cidr;
    }
    out->push_back(selector);
  }
}

void read_remote_addresses(TomlReader& r, ConnectionSettings* c) {
  bool present = false;
  std::vector<std::string> texts = r.strings("remote_addresses", &present);
  if (!present) {
    texts = {"%any"};
  } else if (texts.empty()) {
    r.fail("remote_addresses", "needs \"%any\" or at least one address");
    return;
  }
  for (const std::string& text : texts) {
    if (text == "%any") {
      c->remote_any = true;
      continue;
    }
    auto cidr = Cidr::parse(text);
    if (!cidr) {
      r.fail("remote_addresses", cidr.error() + " (expected \"%any\", an address or a CIDR)");
      return;
    }
    c->remote_addresses.push_back(*cidr);
  }
  if (c->remote_any && !c->remote_addresses.empty()) {
    r.fail("remote_addresses", "\"%any\" already includes the other addresses listed");
  }
}

void read_psk(TomlReader& r, const std::string& base_dir, ConnectionSettings* c) {
  std::string inline_psk;
  std::string file;
  const bool has_inline = r.string("psk", &inline_psk);
  const bool has_file = r.string("psk_file", &file);
  if (r.failed()) {
    return;
  }
  const bool needed = c->auth == AuthMethod::psk || c->remote_auth == AuthMethod::psk;
  if (has_inline && has_file) {
    r.fail("psk_file", "set psk or psk_file, not both");
    return;
  }
  if (!needed) {
    if (has_inline || has_file) {
      r.fail(has_inline ? "psk" : "psk_file",
             "unused: neither auth nor remote_auth is psk (remove it or use psk)");
    }
    return;
  }
  if (!has_inline && !has_file) {
    r.fail(nullptr, "psk", "missing: auth or remote_auth is psk, so set psk or psk_file");
    return;
  }
  if (has_file) {
    if (!readable_file(r, "psk_file", base_dir, &file)) {
      return;
    }
    std::ifstream in(file, std::ios::binary);
    std::string contents(kMaxPskFileBytes + 1, '\0');
    in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
    contents.resize(static_cast<std::size_t>(in.gcount()));
    if (contents.size() > kMaxPskFileBytes) {
      r.fail("psk_file",
             "'" + file + "' is larger than " + std::to_string(kMaxPskFileBytes) + " bytes");
      return;
    }
    while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
      contents.pop_back();
    }
    inline_psk = std::move(contents);
  }
  if (inline_psk.empty()) {
    r.fail(has_file ? "psk_file" : "psk", "the pre-shared key is empty");
    return;
  }
  c->psk = ike::Secret(ike::as_bytes(inline_psk));
  std::fill(inline_psk.begin(), inline_psk.end(), '\0');
}

}  // namespace

void read_connection(TomlReader& r, const std::string& base_dir, const GatewayConfig& config,
                     ConnectionSettings* c) {
  if (r.string("name", &c->name, true) && !valid_name(c->name)) {
    r.fail("name", kNameRule);
  }
  read_remote_addresses(r, c);
  r.integer("remote_port", &c->remote_port, 1, 65535);
  if (r.string("local_id", &c->local_id) && !c->local_id.empty()) {
    if (std::string why = check_identity(c->local_id); !why.empty()) {
      r.fail("local_id", why);
    }
  }
  if (r.string("remote_id", &c->remote_id)) {
    if (std::string why = check_identity_pattern(c->remote_id); !why.empty()) {
      r.fail("remote_id", why);
    }
  }
  read_auth(r, "auth", &c->auth);
  read_auth(r, "remote_auth", &c->remote_auth);
  read_psk(r, base_dir, c);
  read_proposals(r, "ike_proposals", kDefaultIkeProposals, parse_ike_proposal, &c->ike_proposals);
  read_proposals(r, "esp_proposals", kDefaultEspProposals, parse_esp_proposal, &c->esp_proposals);
  read_selectors(r, "local_ts", "0.0.0.0/0", &c->local_ts);
  read_selectors(r, "remote_ts", "dynamic", &c->remote_ts);
  read_pools(r, config, c);
  r.boolean("initiate", &c->initiate);
  r.boolean("fragmentation", &c->fragmentation);
  c->dpd_interval_s = config.control.dpd_interval_s;
  c->ike_lifetime_s = config.control.ike_lifetime_s;
  c->child_lifetime_s = config.control.child_lifetime_s;
  r.integer("dpd_interval_s", &c->dpd_interval_s, 0, kMaxDpdSeconds);
  r.integer("ike_lifetime_s", &c->ike_lifetime_s, kMinLifetimeSeconds, kMaxLifetimeSeconds);
  r.integer("child_lifetime_s", &c->child_lifetime_s, kMinLifetimeSeconds, kMaxLifetimeSeconds);
  r.reject_unknown_keys();
  if (r.failed()) {
    return;
  }
  // Cross-checks, once every key read cleanly.
  if (c->initiate &&
      (c->remote_any || c->remote_addresses.size() != 1 || !c->remote_addresses[0].is_host())) {
    r.fail(r.has("remote_addresses") ? r.table().get("remote_addresses") : nullptr,
           "remote_addresses",
           "initiate = true needs exactly one remote address (not %any or a "
           "subnet)");
  } else if (c->auth == AuthMethod::pubkey && config.identity.certificate.empty()) {
    r.fail("auth", "pubkey needs identity.certificate and identity.private_key");
  } else if (c->remote_auth == AuthMethod::pubkey && config.identity.ca.empty()) {
    r.fail("remote_auth", "pubkey needs trust anchors in identity.ca");
  } else if (c->local_id.empty() && config.identity.id.empty() &&
             config.identity.certificate.empty()) {
    r.fail(nullptr, "local_id",
           "missing: set local_id here, or identity.id (or an identity.certificate)");
  }
}

}  // namespace traverse::gateway
