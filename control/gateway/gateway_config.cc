#include "control/gateway/gateway_config.hh"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/gateway/config_checks.hh"
#include "control/gateway/toml_reader.hh"

namespace traverse::gateway {
namespace {

void read_control(TomlReader& r, ControlSettings* c) {
  r.string("control_socket", &c->control_socket);
  if (!r.failed() && (c->control_socket.empty() || c->control_socket[0] != '/' ||
                      c->control_socket.size() > kMaxUnixPathLength)) {
    r.fail("control_socket", "expected an absolute path of at most " +
                                 std::to_string(kMaxUnixPathLength) + " characters");
  }
  std::string level;
  if (r.choice("log_level", {"error", "warning", "info", "debug"}, &level)) {
    c->log_level = level == "error"     ? LogLevel::error
                   : level == "warning" ? LogLevel::warning
                   : level == "debug"   ? LogLevel::debug
                                        : LogLevel::info;
  }
  for (const std::string& text : r.strings("listen")) {
    auto address = Address::parse(text);
    if (!address) {
      r.fail("listen", address.error());
      return;
    }
    c->listen.push_back(*address);
  }
  r.integer("ike_port", &c->ike_port, 1, 65535);
  r.integer("natt_port", &c->natt_port, 1, 65535);
  if (!r.failed() && c->ike_port == c->natt_port) {
    r.fail("natt_port", "must differ from ike_port (" + std::to_string(c->ike_port) + ")");
  }
  r.boolean("force_encap", &c->force_encap);
  r.integer("fragment_size", &c->fragment_size, 576, 65535);
  r.integer("half_open_limit", &c->half_open_limit, 1, 10'000'000);
  r.integer("cookie_threshold", &c->cookie_threshold, 0, 10'000'000);
  if (!r.failed() && c->cookie_threshold > c->half_open_limit) {
    r.fail("cookie_threshold",
           "must not exceed half_open_limit (" + std::to_string(c->half_open_limit) + ")");
  }
  r.integer("per_source_half_open", &c->per_source_half_open, 1, 10'000'000);
  r.integer("retransmit_timeout_ms", &c->retransmit_timeout_ms, 50, 60'000);
  r.integer("retransmit_tries", &c->retransmit_tries, 1, 20);
  r.integer("dpd_interval_s", &c->dpd_interval_s, 0, kMaxDpdSeconds);
  r.integer("nat_keepalive_s", &c->nat_keepalive_s, 0, 3600);
  r.integer("ike_lifetime_s", &c->ike_lifetime_s, kMinLifetimeSeconds, kMaxLifetimeSeconds);
  r.integer("child_lifetime_s", &c->child_lifetime_s, kMinLifetimeSeconds, kMaxLifetimeSeconds);
  r.integer("child_lifetime_bytes", &c->child_lifetime_bytes, 0, INT64_MAX);
  r.integer("max_ike_sas", &c->max_ike_sas, 1, 10'000'000);
  r.reject_unknown_keys();
}

void read_identity(TomlReader& r, const std::string& base_dir, IdentitySettings* id) {
  if (r.string("id", &id->id)) {
    if (std::string why = check_identity(id->id); !why.empty()) {
      r.fail("id", why);
    }
  }
  if (r.string("certificate", &id->certificate)) {
    readable_file(r, "certificate", base_dir, &id->certificate);
  }
  if (r.string("private_key", &id->private_key)) {
    readable_file(r, "private_key", base_dir, &id->private_key);
  }
  if (!r.failed() && id->certificate.empty() != id->private_key.empty()) {
    r.fail(id->certificate.empty() ? "certificate" : "private_key",
           "certificate and private_key go together: set both or neither");
  }
  for (const char* key : {"ca", "crl"}) {
    std::vector<std::string>* files = std::string(key) == "ca" ? &id->ca : &id->crl;
    *files = r.strings(key);
    for (std::string& file : *files) {
      readable_file(r, key, base_dir, &file);
    }
  }
  r.reject_unknown_keys();
}

void read_pool(TomlReader& r, PoolSettings* pool) {
  if (r.string("name", &pool->name, true) && !valid_name(pool->name)) {
    r.fail("name", kNameRule);
  }
  std::string text;
  if (r.string("addresses", &text, true)) {
    auto cidr = Cidr::parse(text);
    if (!cidr) {
      r.fail("addresses", cidr.error());
    } else {
      pool->addresses = *cidr;
    }
  }
  r.integer("lease_time_s", &pool->lease_time_s, 0, 365 * 86400);
  for (const std::string& server : r.strings("dns")) {
    auto address = Address::parse(server);
    if (!address) {
      r.fail("dns", address.error());
      break;
    }
    pool->dns.push_back(*address);
  }
  pool->split_dns = r.strings("split_dns");
  for (const std::string& domain : pool->split_dns) {
    if (!valid_domain(domain)) {
      r.fail("split_dns", "'" + domain + "' is not a DNS domain name");
    }
  }
  for (const std::string& subnet : r.strings("split_include")) {
    auto cidr = Cidr::parse(subnet);
    if (!cidr) {
      r.fail("split_include", cidr.error());
      break;
    }
    pool->split_include.push_back(*cidr);
  }
  r.reject_unknown_keys();
}

// Reads [[name]] into items; table_reader(reader, item) fills one.
template <typename T, typename ReadOne>
void read_array(TomlReader& root, const std::string& name, std::vector<T>* items,
                std::string* error, ReadOne read_one) {
  const toml::node* node = root.get(name);
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    root.fail(node, name, "expected [[" + name + "]] tables");
    return;
  }
  for (size_t i = 0; i < array->size() && error->empty(); ++i) {
    TomlReader r(*array->get(i)->as_table(), root.origin(), name + "[" + std::to_string(i) + "]",
                 error);
    items->emplace_back();
    read_one(r, &items->back());
  }
}

// Names must be unique within pools and within connections.
template <typename T>
void reject_duplicate_names(TomlReader& root, const std::string& kind,
                            const std::vector<T>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (items[i].name == items[j].name) {
        const toml::node* name = array_item_key(root.table(), kind, i, "name");
        root.fail(name, kind + "[" + std::to_string(i) + "].name",
                  "duplicate name '" + items[i].name + "' (also " + kind + "[" + std::to_string(j) +
                      "])");
        return;
      }
    }
  }
}

}  // namespace

Expected<GatewayConfig, std::string> parse_gateway_config(const std::string& text,
                                                          const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return unexpected(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  std::string base_dir = std::filesystem::path(origin).parent_path().string();
  if (base_dir.empty()) {
    base_dir = ".";
  }
  GatewayConfig config;
  config.origin = origin;
  std::string error;
  TomlReader top(root, origin, "", &error);
  if (const toml::node* node = top.get("control"); node != nullptr) {
    if (!node->is_table()) {
      top.fail(node, "control", "expected a table [control]");
    } else {
      TomlReader r(*node->as_table(), origin, "control", &error);
      read_control(r, &config.control);
    }
  }
  if (const toml::node* node = top.get("identity"); node != nullptr) {
    if (!node->is_table()) {
      top.fail(node, "identity", "expected a table [identity]");
    } else {
      TomlReader r(*node->as_table(), origin, "identity", &error);
      read_identity(r, base_dir, &config.identity);
    }
  }
  if (const toml::node* node = top.get("dataplane"); node != nullptr) {
    // traverse-dataplane validates the rest of [dataplane]; only its API socket matters here.
    if (!node->is_table()) {
      top.fail(node, "dataplane", "expected a table [dataplane]");
    } else if (const toml::node* socket = node->as_table()->get("api_socket"); socket != nullptr) {
      if (!socket->is_string()) {
        top.fail(socket, "dataplane.api_socket", "expected a string");
      } else {
        config.dataplane_api_socket = socket->as_string()->get();
      }
    }
  }
  read_array(top, "pool", &config.pools, &error,
             [](TomlReader& r, PoolSettings* pool) { read_pool(r, pool); });
  if (error.empty()) {
    reject_duplicate_names(top, "pool", config.pools);
    check_pool_overlaps(top, config.pools);
  }
  read_array(top, "connection", &config.connections, &error,
             [&](TomlReader& r, ConnectionSettings* connection) {
               read_connection(r, base_dir, config, connection);
             });
  if (error.empty()) {
    reject_duplicate_names(top, "connection", config.connections);
  }
  top.reject_unknown_keys();
  if (!error.empty()) {
    return unexpected(error);
  }
  return config;
}

Expected<GatewayConfig, std::string> load_gateway_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return unexpected(path + ": cannot open the configuration file");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_gateway_config(text.str(), path);
}

const PoolSettings* GatewayConfig::find_pool(const std::string& name) const {
  for (const PoolSettings& pool : pools) {
    if (pool.name == name) {
      return &pool;
    }
  }
  return nullptr;
}

const ConnectionSettings* GatewayConfig::find_connection(const std::string& name) const {
  for (const ConnectionSettings& connection : connections) {
    if (connection.name == name) {
      return &connection;
    }
  }
  return nullptr;
}

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      break;
  }
  return "info";
}

const char* to_string(AuthMethod method) {
  return method == AuthMethod::pubkey ? "pubkey" : "psk";
}

}  // namespace traverse::gateway
