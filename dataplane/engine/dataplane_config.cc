#include "dataplane/engine/dataplane_config.hh"

#include <toml++/toml.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "dataplane/esp/hex.hh"

namespace traverse::engine {
namespace {

// Reads one TOML table, remembering the first error with its file, line and
// key, and rejecting keys it was not asked about (typos must not pass).
class TableReader {
 public:
  TableReader(const toml::table& table, std::string origin, std::string path, std::string* error)
      : table_(table), origin_(std::move(origin)), path_(std::move(path)), error_(error) {}

  ~TableReader() = default;
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  bool failed() const { return !error_->empty(); }

  void fail(const toml::node* node, const std::string& key, const std::string& what) {
    if (failed()) {
      return;
    }
    const toml::source_region& where = node != nullptr ? node->source() : table_.source();
    *error_ =
        origin_ + ":" + std::to_string(where.begin.line) + ": " + qualified(key) + ": " + what;
  }

  const toml::node* get(const std::string& key) {
    seen_.insert(key);
    return table_.get(key);
  }

  template <typename T>
  void integer(const std::string& key, T* out, int64_t min, int64_t max) {
    const toml::node* node = get(key);
    if (node == nullptr) {
      return;
    }
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      fail(node, key, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max));
      return;
    }
    *out = static_cast<T>(value->get());
  }

  void boolean(const std::string& key, bool* out) {
    const toml::node* node = get(key);
    if (node == nullptr) {
      return;
    }
    if (!node->is_boolean()) {
      fail(node, key, "expected true or false");
      return;
    }
    *out = node->as_boolean()->get();
  }

  bool string(const std::string& key, std::string* out, bool required = false) {
    const toml::node* node = get(key);
    if (node == nullptr) {
      if (required) {
        fail(nullptr, key, "missing (required)");
      }
      return false;
    }
    if (!node->is_string()) {
      fail(node, key, "expected a string");
      return false;
    }
    *out = node->as_string()->get();
    return true;
  }

  // A string or an array of strings.
  std::vector<std::string> strings(const std::string& key) {
    std::vector<std::string> out;
    const toml::node* node = get(key);
    if (node == nullptr) {
      return out;
    }
    if (node->is_string()) {
      out.push_back(node->as_string()->get());
      return out;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
      fail(node, key, "expected a string or an array of strings");
      return out;
    }
    for (const toml::node& item : *array) {
      if (!item.is_string()) {
        fail(&item, key, "expected strings only");
        return out;
      }
      out.push_back(item.as_string()->get());
    }
    return out;
  }

  void address(const std::string& key, esp::IpAddress* out, bool required) {
    std::string text;
    if (!string(key, &text, required)) {
      return;
    }
    auto parsed = esp::IpAddress::parse(text);
    if (!parsed) {
      fail(table_.get(key), key, "'" + text + "' is not an IPv4 or IPv6 address");
      return;
    }
    *out = *parsed;
  }

  void hex(const std::string& key, std::vector<uint8_t>* out) {
    std::string text;
    if (!string(key, &text)) {
      return;
    }
    if (!esp::parse_hex(text, out)) {
      fail(table_.get(key), key, "expected hex digits (an optional 0x prefix, no spaces)");
    }
  }

  // Every key present must have been asked for.
  void reject_unknown_keys() {
    for (const auto& [key, node] : table_) {
      if (seen_.count(std::string(key.str())) == 0) {
        fail(&node, std::string(key.str()), "unknown key");
      }
    }
  }

  const toml::table* subtable(const std::string& key, bool required) {
    const toml::node* node = get(key);
    if (node == nullptr) {
      if (required) {
        fail(nullptr, key, "missing table (required)");
      }
      return nullptr;
    }
    if (!node->is_table()) {
      fail(node, key, "expected a table");
      return nullptr;
    }
    return node->as_table();
  }

  std::string qualified(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  const std::string& origin() const { return origin_; }

 private:
  const toml::table& table_;
  std::string origin_;
  std::string path_;
  std::string* error_;
  std::set<std::string> seen_;
};

void read_port(const toml::table& table, TableReader& parent, const std::string& name,
               PortConfig* port, std::string* error) {
  TableReader r(table, parent.origin(), parent.qualified(name), error);
  port->name = name;
  r.string("device", &port->device, true);
  for (const std::string& text : r.strings("address")) {
    auto prefix = parse_prefix(text);
    if (!prefix) {
      r.fail(table.get("address"), "address", "'" + text + "' is not ADDRESS/PREFIX");
      return;
    }
    port->addresses.push_back(*prefix);
  }
  for (const std::string& text : r.strings("gateway")) {
    auto gateway = esp::IpAddress::parse(text);
    if (!gateway) {
      r.fail(table.get("gateway"), "gateway", "'" + text + "' is not an IP address");
      return;
    }
    port->gateways.push_back(*gateway);
  }
  r.integer("mtu", &port->mtu, 576, 9216);
  r.string("tap", &port->tap);
  r.boolean("queues_spread_flows", &port->queues_spread_flows);
  if (port->tap.size() > 15) {
    r.fail(table.get("tap"), "tap", "interface names have at most 15 characters");
  }
  r.reject_unknown_keys();
}

void read_sa(const toml::table& table, TableReader& parent, size_t index, StaticSa* sa,
             std::string* error) {
  TableReader r(table, parent.origin(), parent.qualified("sa[" + std::to_string(index) + "]"),
                error);
  std::string direction;
  r.string("direction", &direction, true);
  if (direction == "inbound") {
    sa->direction = SaDirection::inbound;
  } else if (direction == "outbound") {
    sa->direction = SaDirection::outbound;
  } else if (!r.failed()) {
    r.fail(table.get("direction"), "direction", "expected inbound or outbound");
  }
  esp::SaConfig& c = sa->sa;
  r.integer("spi", &c.spi, 256, 0xffffffffLL);
  std::string transform = "aes128gcm16";
  r.string("transform", &transform);
  if (!crypto::transform_by_name(transform, &c.transform)) {
    r.fail(table.get("transform"), "transform",
           "'" + transform +
               "' is not one of aes128gcm16, aes256gcm16, aes128-sha256, aes256-sha256, "
               "chacha20poly1305");
  }
  std::string backend = "ipsec-mb";
  r.string("backend", &backend);
  if (!crypto::backend_by_name(backend, &c.backend)) {
    r.fail(table.get("backend"), "backend", "expected ipsec-mb or openssl");
  }
  r.hex("key", &c.cipher_key);
  r.hex("salt", &c.salt);
  r.hex("auth_key", &c.auth_key);
  r.boolean("esn", &c.esn);
  r.integer("replay_window", &c.replay_window, 0, 65536);
  r.address("local", &c.local, true);
  r.address("remote", &c.remote, true);
  r.boolean("udp_encap", &c.udp_encap);
  r.integer("local_port", &c.local_port, 1, 65535);
  r.integer("remote_port", &c.remote_port, 1, 65535);
  r.integer("ttl", &c.ttl, 1, 255);
  r.integer("first_sequence", &c.first_sequence, 1, INT64_MAX);
  r.integer("soft_bytes", &sa->soft_bytes, 0, INT64_MAX);
  r.integer("hard_bytes", &sa->hard_bytes, 0, INT64_MAX);
  r.integer("soft_packets", &sa->soft_packets, 0, INT64_MAX);
  r.integer("hard_packets", &sa->hard_packets, 0, INT64_MAX);
  r.reject_unknown_keys();
  if (!r.failed()) {
    if (std::string why = c.validate(); !why.empty()) {
      r.fail(&table, "", why);
    }
  }
}

void read_policy(const toml::table& table, TableReader& parent, size_t index, StaticPolicy* policy,
                 std::string* error) {
  TableReader r(table, parent.origin(), parent.qualified("policy[" + std::to_string(index) + "]"),
                error);
  std::string selector;
  if (r.string("selector", &selector, true)) {
    auto prefix = parse_prefix(selector);
    if (!prefix) {
      r.fail(table.get("selector"), "selector", "'" + selector + "' is not ADDRESS/PREFIX");
    } else {
      policy->selector = *prefix;
    }
  }
  r.integer("spi", &policy->spi, 256, 0xffffffffLL);
  r.reject_unknown_keys();
}

void read_neighbor(const toml::table& table, TableReader& parent, size_t index,
                   StaticNeighbor* neighbor, std::string* error) {
  TableReader r(table, parent.origin(), parent.qualified("neighbor[" + std::to_string(index) + "]"),
                error);
  r.string("port", &neighbor->port, true);
  if (!r.failed() && neighbor->port != "outside" && neighbor->port != "inside") {
    r.fail(table.get("port"), "port", "expected outside or inside");
  }
  r.address("address", &neighbor->address, true);
  std::string mac;
  if (r.string("mac", &mac, true)) {
    unsigned b[6];
    char tail = 0;
    if (std::sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                    &tail) != 6) {
      r.fail(table.get("mac"), "mac", "'" + mac + "' is not a MAC address (aa:bb:cc:dd:ee:ff)");
    } else {
      for (int i = 0; i < 6; ++i) {
        neighbor->mac[i] = static_cast<uint8_t>(b[i]);
      }
    }
  }
  r.reject_unknown_keys();
}

template <typename Item, typename ReadFn>
void read_array_of_tables(TableReader& r, const std::string& key, std::vector<Item>* out,
                          ReadFn read, std::string* error) {
  const toml::node* node = r.get(key);
  if (node == nullptr) {
    return;
  }
  const auto* array = node->as_array();
  if (array == nullptr) {
    r.fail(node, key, "expected an array of tables ([[" + r.qualified(key) + "]])");
    return;
  }
  for (size_t i = 0; i < array->size() && !r.failed(); ++i) {
    const toml::table* table = array->get(i)->as_table();
    if (table == nullptr) {
      r.fail(array->get(i), key, "expected a table");
      return;
    }
    out->emplace_back();
    read(*table, r, i, &out->back(), error);
  }
}

}  // namespace

std::optional<Prefix> parse_prefix(const std::string& text) {
  const size_t slash = text.find('/');
  auto address = esp::IpAddress::parse(text.substr(0, slash));
  if (!address) {
    return std::nullopt;
  }
  Prefix prefix{*address, static_cast<uint8_t>(address->version == 4 ? 32 : 128)};
  if (slash != std::string::npos) {
    const std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    const int length = std::stoi(digits);
    if (length > (address->version == 4 ? 32 : 128)) {
      return std::nullopt;
    }
    prefix.length = static_cast<uint8_t>(length);
  }
  return prefix;
}

std::optional<DataplaneConfig> parse_dataplane_config(const std::string& text,
                                                      const std::string& origin,
                                                      std::string* error) {
  error->clear();
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    *error =
        origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    return std::nullopt;
  }
  const toml::table* table = root["dataplane"].as_table();
  if (table == nullptr) {
    *error = origin + ":1: dataplane: missing table [dataplane]";
    return std::nullopt;
  }
  DataplaneConfig config;
  TableReader r(*table, origin, "dataplane", error);
  config.eal_args = r.strings("eal");
  r.integer("workers", &config.workers, 1, 64);
  r.integer("mbufs", &config.mbufs, 1024, 1 << 22);
  r.integer("max_sas", &config.max_sas, 1024, 1 << 22);
  if ((config.max_sas & (config.max_sas - 1)) != 0) {
    r.fail(table->get("max_sas"), "max_sas", "must be a power of two");
  }
  r.string("api_socket", &config.api_socket);
  r.integer("reassembly_entries", &config.reassembly_entries, 16, 1 << 20);
  r.integer("reassembly_timeout_ms", &config.reassembly_timeout_ms, 10, 60000);
  r.integer("icmp_rate_per_second", &config.icmp_rate_per_second, 0, 1000000);
  r.integer("idle_timeout_s", &config.idle_timeout_s, 0, 86400);
  r.boolean("replay_window_disabled", &config.replay_window_disabled);
  if (const toml::table* port = r.subtable("outside", true); port != nullptr) {
    read_port(*port, r, "outside", &config.outside, error);
  }
  if (const toml::table* port = r.subtable("inside", true); port != nullptr) {
    read_port(*port, r, "inside", &config.inside, error);
  }
  read_array_of_tables(r, "sa", &config.sas, read_sa, error);
  read_array_of_tables(r, "policy", &config.policies, read_policy, error);
  read_array_of_tables(r, "neighbor", &config.neighbors, read_neighbor, error);
  r.reject_unknown_keys();
  if (r.failed()) {
    return std::nullopt;
  }
  return config;
}

std::optional<DataplaneConfig> load_dataplane_config(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_dataplane_config(text.str(), path, error);
}

}  // namespace traverse::engine
