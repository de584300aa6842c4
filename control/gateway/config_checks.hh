// Validation helpers shared by the gateway.toml readers (gateway_config.cc,
// connection_config.cc): identities, names, file paths, pool overlaps.
// Internal to the gateway library. Pure functions except for file checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/gateway/gateway_config.hh"
#include "control/gateway/toml_reader.hh"

namespace traverse::gateway {

constexpr std::size_t kMaxUnixPathLength = 107;  // sun_path less the terminator
constexpr int64_t kMinLifetimeSeconds = 60;
constexpr int64_t kMaxLifetimeSeconds = 30 * 86400;
constexpr int64_t kMaxDpdSeconds = 86400;
constexpr const char* kNameRule = "expected 1-64 characters from A-Z a-z 0-9 _ . -";

bool valid_name(std::string_view name);
bool valid_domain(std::string_view domain);

// Empty when id is a valid identity: "fqdn:", "email:", "ip:", "dn:", "keyid:"
// prefixed, or a bare value whose type is inferred.
std::string check_identity(std::string_view id);
// Empty when pattern is a valid remote_id pattern ("%any", wildcards, ids).
std::string check_identity_pattern(std::string_view pattern);

// Resolves *path against base_dir (when relative) and checks it can be read;
// records an error under key otherwise.
bool readable_file(TomlReader& r, const std::string& key, const std::string& base_dir,
                   std::string* path);

// Two pools sharing addresses would lease one address twice.
void check_pool_overlaps(TomlReader& root, const std::vector<PoolSettings>& pools);

// One [[connection]]; pools and identity in config are already read.
void read_connection(TomlReader& r, const std::string& base_dir, const GatewayConfig& config,
                     ConnectionSettings* connection);

}  // namespace traverse::gateway
