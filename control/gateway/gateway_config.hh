// gateway.toml as traverse-control reads it: the [control], [identity],
// [[pool]] and [[connection]] tables (and dataplane.api_socket), parsed and
// validated into plain structs. Errors read "file:line: key: message".
// Pure functions; the result is an immutable value, safe to share once built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/gateway/algorithm_names.hh"
#include "control/gateway/ip_prefix.hh"
#include "control/ike/bytes.hh"
#include "control/ike/result.hh"

namespace traverse::gateway {

enum class LogLevel { error, warning, info, debug };
enum class AuthMethod { psk, pubkey };

struct ControlSettings {
  std::string control_socket = "/run/traverse/control.sock";
  LogLevel log_level = LogLevel::info;
  std::vector<Address> listen;  // empty: all addresses (0.0.0.0 and ::)
  uint16_t ike_port = 500;
  uint16_t natt_port = 4500;
  bool force_encap = false;
  uint32_t fragment_size = 1280;
  uint32_t half_open_limit = 1000;
  uint32_t cookie_threshold = 100;
  uint32_t per_source_half_open = 10;
  uint32_t retransmit_timeout_ms = 1000;
  uint32_t retransmit_tries = 5;
  uint32_t dpd_interval_s = 30;
  uint32_t nat_keepalive_s = 20;
  uint32_t ike_lifetime_s = 14400;
  uint32_t child_lifetime_s = 3600;
  uint64_t child_lifetime_bytes = 0;  // 0: no byte limit
  uint32_t max_ike_sas = 100000;
};

struct IdentitySettings {
  std::string id;           // as written: "fqdn:x", "email:u@x", ..., or a bare value
  std::string certificate;  // absolute paths; empty when not configured
  std::string private_key;
  std::vector<std::string> ca;
  std::vector<std::string> crl;
};

struct PoolSettings {
  std::string name;
  Cidr addresses;
  uint32_t lease_time_s = 86400;
  std::vector<Address> dns;
  std::vector<std::string> split_dns;
  std::vector<Cidr> split_include;  // empty: full tunnel
};

// A traffic selector setting: a CIDR, or "dynamic" (the peer's own or virtual
// address, known only at negotiation time).
struct TrafficSelectorSetting {
  bool dynamic = false;
  Cidr cidr;
};

struct ConnectionSettings {
  std::string name;
  bool remote_any = false;             // "%any" in remote_addresses
  std::vector<Cidr> remote_addresses;  // hosts are full-length prefixes
  uint16_t remote_port = 500;
  std::string local_id;  // empty: identity.id
  std::string remote_id = "%any";
  AuthMethod auth = AuthMethod::psk;
  AuthMethod remote_auth = AuthMethod::psk;
  ike::Secret psk;  // from psk or psk_file; empty unless a side uses psk
  std::vector<AlgorithmProposal> ike_proposals;
  std::vector<AlgorithmProposal> esp_proposals;
  std::vector<TrafficSelectorSetting> local_ts;
  std::vector<TrafficSelectorSetting> remote_ts;
  std::vector<std::string> pools;  // Office Mode, at most one per address family; empty: none
  bool initiate = false;
  bool fragmentation = true;
  // Always filled: the connection's own value or the [control] one.
  uint32_t dpd_interval_s = 30;
  uint32_t ike_lifetime_s = 14400;
  uint32_t child_lifetime_s = 3600;
};

struct GatewayConfig {
  std::string origin;                // the file it came from
  std::string dataplane_api_socket;  // [dataplane] api_socket; empty if absent
  ControlSettings control;
  IdentitySettings identity;
  std::vector<PoolSettings> pools;
  std::vector<ConnectionSettings> connections;

  const PoolSettings* find_pool(const std::string& name) const;
  const ConnectionSettings* find_connection(const std::string& name) const;
};

// origin names the text in errors; relative file paths in it are resolved
// against origin's directory.
Expected<GatewayConfig, std::string> parse_gateway_config(const std::string& text,
                                                          const std::string& origin);
Expected<GatewayConfig, std::string> load_gateway_config(const std::string& path);

const char* to_string(LogLevel level);
const char* to_string(AuthMethod method);

}  // namespace traverse::gateway
